//! The session cookies of the compatibility surface.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::HttpResponseBuilder;
use std::time::Duration;

/// Cookie holding the access token.
pub const ACCESS_COOKIE: &str = "access_token";
/// Cookie holding the refresh token.
pub const REFRESH_COOKIE: &str = "refresh_token";

fn auth_cookie(
    name: &'static str,
    value: String,
    max_age: Duration,
    secure: bool,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(time::Duration::seconds(
            i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
        ))
        .finish()
}

pub fn set_access_cookie(
    response: &mut HttpResponseBuilder,
    token: String,
    ttl: Duration,
    secure: bool,
) {
    response.cookie(auth_cookie(ACCESS_COOKIE, token, ttl, secure));
}

pub fn set_refresh_cookie(
    response: &mut HttpResponseBuilder,
    token: String,
    ttl: Duration,
    secure: bool,
) {
    response.cookie(auth_cookie(REFRESH_COOKIE, token, ttl, secure));
}

/// Expires both cookies in the browser.
pub fn clear_auth_cookies(response: &mut HttpResponseBuilder, secure: bool) {
    for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
        let mut cookie = auth_cookie(name, String::new(), Duration::ZERO, secure);
        cookie.make_removal();
        response.cookie(cookie);
    }
}
