//! CSRF protection for the forms people send before they are logged in
//! (logging in, reporting without an account). There is no session to hold
//! a token yet, so the token lives in its own cookie and must come back in
//! the form as well (double submit): a page on another site can make the
//! browser send the cookie, but can neither read it nor put it in the form.

use super::{PortalError, PortalResult};
use crate::AppState;
use crate::auth::{cookie, new_secret};
use axum::http::{HeaderMap, HeaderValue};
use maud::{Markup, html};
use sha2::{Digest, Sha256};

const FORM_COOKIE: &str = "ipguard_form";

/// The token a form carries, and the cookie to set when the browser had none.
pub struct FormToken {
    pub token: String,
    pub set_cookie: Option<HeaderValue>,
}

impl FormToken {
    /// The browser's current token, or a new one. Reusing it keeps forms
    /// open in several tabs valid.
    pub fn issue(state: &AppState, headers: &HeaderMap) -> PortalResult<FormToken> {
        if let Some(token) = cookie(headers, FORM_COOKIE).filter(|t| !t.is_empty()) {
            return Ok(FormToken {
                token: token.to_owned(),
                set_cookie: None,
            });
        }
        let (token, _) = new_secret("");
        let secure = if state.config.server.cookie_secure {
            "; Secure"
        } else {
            ""
        };
        // Strict: the cookie never rides along on a request another site starts.
        let value = format!("{FORM_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{secure}");
        let set_cookie = HeaderValue::from_str(&value)
            .map_err(|_| PortalError::from(crate::error::ApiError::internal("form cookie")))?;
        Ok(FormToken {
            token,
            set_cookie: Some(set_cookie),
        })
    }

    /// The hidden field that carries the token.
    pub fn field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.token); }
    }
}

/// Refuses a form whose token is missing or differs from the cookie's.
pub fn check(headers: &HeaderMap, sent: &str) -> PortalResult<()> {
    match cookie(headers, FORM_COOKIE) {
        Some(expected)
            if !expected.is_empty() && Sha256::digest(expected) == Sha256::digest(sent) =>
        {
            Ok(())
        }
        _ => Err(PortalError::forged_form()),
    }
}
