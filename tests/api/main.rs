//! Black-box tests of the HTTP API: every row of API.md's compatibility tables and the
//! robustness rules around them.

mod accounts;
mod catalogue;
mod chat_rest;
mod compat_socket;
mod conversations;
mod faults;
mod gateway;
mod images;
mod limits;
mod management;
mod membership;
mod mentions;
mod message_store;
mod messages;
mod metrics;
mod operations;
mod personal;
mod pins;
mod presence;
mod reactions;
mod reads;
mod replies;
mod resume;
mod robustness;
mod search;
mod security;
mod spa;
mod spec_fuzz;
mod tokens;
mod user_presence;
mod ws_fuzz;
