//! Requests no route took: a path the API has, asked with a method it does not have, gets 405
//! with `Allow` (as the reference's Django REST Framework answers); anything else gets 404.

use crate::error::ApiError;
use actix_web::dev::ResourceDef;
use actix_web::{web, HttpRequest, HttpResponse};
use utoipa::openapi::OpenApi;

/// Methods in the order `Allow` lists them.
const METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "head", "options", "trace",
];

/// Every documented path with the methods it answers.
///
/// Built from the OpenAPI document: every route is registered together with its documentation
/// (see [`crate::routes`]), so the document lists exactly the routes there are.
pub struct KnownPaths(Vec<(ResourceDef, Vec<&'static str>)>);

impl KnownPaths {
    pub fn from_document(doc: &OpenApi) -> Self {
        let Ok(doc) = serde_json::to_value(doc) else {
            return Self(Vec::new());
        };
        let Some(paths) = doc["paths"].as_object() else {
            return Self(Vec::new());
        };
        let known = paths
            .iter()
            .map(|(path, item)| {
                let methods: Vec<&'static str> = METHODS
                    .into_iter()
                    .filter(|method| item.get(*method).is_some())
                    .collect();
                (ResourceDef::new(pattern(path, item)), methods)
            })
            .collect();
        Self(known)
    }

    /// The methods `path` has, for an `Allow` header; `None` when no documented path matches.
    fn allowed(&self, path: &str) -> Option<Vec<&'static str>> {
        let mut allowed: Vec<&'static str> = Vec::new();
        for (def, methods) in &self.0 {
            if !def.is_match(path) {
                continue;
            }
            for method in methods {
                if !allowed.contains(method) {
                    allowed.push(method);
                }
            }
        }
        (!allowed.is_empty()).then_some(allowed)
    }
}

/// The routing pattern of a documented path: integer path parameters match only integers, so
/// that `/{server_id}/{channel_id}` (the chat socket's compatibility path) does not claim
/// `/servers/1`.
fn pattern(path: &str, item: &serde_json::Value) -> String {
    let integers: Vec<&str> = METHODS
        .iter()
        .filter_map(|method| item.get(*method)?.get("parameters")?.as_array())
        .flatten()
        .filter(|p| p["in"] == "path" && p["schema"]["type"] == "integer")
        .filter_map(|p| p["name"].as_str())
        .collect();
    integers.iter().fold(path.to_owned(), |pattern, name| {
        pattern.replace(&format!("{{{name}}}"), &format!("{{{name}:-?\\d+}}"))
    })
}

/// The application's default service.
pub async fn no_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let method = req.method().as_str().to_ascii_lowercase();
    let allowed = req
        .app_data::<web::Data<KnownPaths>>()
        .and_then(|known| known.allowed(req.path()))
        .filter(|allowed| !allowed.contains(&method.as_str()));
    match allowed {
        Some(allowed) => Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: allowed
                .iter()
                .map(|m| m.to_ascii_uppercase())
                .collect::<Vec<_>>()
                .join(", "),
        }),
        None => Err(ApiError::not_found("Not found")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownPaths {
        KnownPaths::from_document(&crate::openapi::document())
    }

    #[test]
    fn documented_paths_list_their_methods() {
        let known = known();
        assert_eq!(known.allowed("/api/register/"), Some(vec!["post"]));
        assert_eq!(
            known.allowed("/api/servers/12/"),
            Some(vec!["get", "patch", "delete"])
        );
        assert_eq!(
            known.allowed("/api/servers/-3/"),
            Some(vec!["get", "patch", "delete"])
        );
        assert_eq!(known.allowed("/12/34"), Some(vec!["get"]));
        assert_eq!(known.allowed("/media/abc.png"), Some(vec!["get"]));
    }

    #[test]
    fn other_paths_are_unknown() {
        let known = known();
        for path in [
            "/api/nothing/",
            "/servers/1",
            "/api/servers/abc/",
            "/",
            "/login",
        ] {
            assert_eq!(known.allowed(path), None, "{path}");
        }
    }
}
