//! The `hearth` command; see `hearth --help`.

fn main() -> std::process::ExitCode {
    hearth_api::cli::main()
}
