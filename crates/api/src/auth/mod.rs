//! Authentication: JWTs, password hashing, cookies and the extractors handlers use.

mod cookies;
mod extract;
mod password;
mod tokens;

pub use cookies::{
    clear_auth_cookies, set_access_cookie, set_refresh_cookie, ACCESS_COOKIE, REFRESH_COOKIE,
};
pub use extract::{bearer_token, cookie_token, AuthUser, TokenUser};
pub use password::{hash_blocking, PasswordHasher};
pub use tokens::{Claims, TokenKind, TokenService};
