//! Requests no handler took: 405 with `Allow` when the path is a route of the OpenAPI
//! document and the method is not one of its methods, 404 otherwise. The table comes
//! from the document, so it knows every route without a list of its own.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;

pub struct RouteTable(Vec<(ResourceDef, Vec<Method>)>);

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> RouteTable {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                let allowed = methods
                    .into_iter()
                    .filter_map(|(method, is_there)| is_there.then_some(method))
                    .collect();
                (ResourceDef::new(path.as_str()), allowed)
            })
            .collect();
        RouteTable(routes)
    }

    fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods.as_slice())
    }
}

/// The default service.
pub async fn unmatched(
    req: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<HttpResponse, Error> {
    let path = req.path().to_owned();
    Err(match routes.allowed(&path) {
        Some(allow) if !allow.contains(req.method()) => Error::MethodNotAllowed {
            method: req.method().to_string(),
            path,
            allow: allow.iter().map(|m| m.as_str().to_owned()).collect(),
        },
        _ => Error::NoRoute { path },
    })
}
