//! `/token`: the registry's own token endpoint for the bearer flow
//! (`GET /token?service=…&scope=…`, Basic credentials or none). A client
//! that gives wrong credentials gets 401; one that gives none gets a
//! token with what anonymous clients may do.

use hyper::{Method, Response};

use super::body::{full, Body};
use super::routes::Req;
use super::State;
use crate::auth::Scope;
use crate::errors::{ApiError, Code};

pub fn answer(st: &State, req: &Req) -> Result<Response<Body>, ApiError> {
    if req.method != Method::GET {
        return Err(ApiError::detail(Code::Unsupported, "use GET for tokens"));
    }
    let user = match req.header("authorization") {
        Some(value) => match st.auth.basic_user(value) {
            Ok(u) => Some(u),
            Err(_) => {
                let mut e = ApiError::new(Code::Unauthorized);
                e.challenge = Some(format!("Basic realm=\"{}\"", st.auth.service));
                return Err(e);
            }
        },
        None => None,
    };
    let scopes: Vec<Scope> = req
        .query
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' '))
        .filter_map(Scope::parse)
        .collect();
    let body = st.auth.issue_token(user.as_deref(), &scopes);
    Ok(Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .body(full(body.to_string()))
        .unwrap_or_else(|_| Response::new(full(""))))
}
