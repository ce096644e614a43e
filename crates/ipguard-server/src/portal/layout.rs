//! The page frame, navigation and the small formatting helpers every page shares.

use super::PortalUser;
use crate::service::to_datetime;
use ipguard_domain::Role;
use ipguard_domain::notice::FieldError;
use ipguard_domain::reasons::StatementOfReasons;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Enough style to read tables and forms; no external assets, so the page
/// works offline and needs no content-security exceptions.
const CSS: &str = "
body{font-family:system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#123;color:#fff;padding:.6em 1.2em;display:flex;gap:1.2em;align-items:center;flex-wrap:wrap}
header a{color:#fff}header .brand{font-weight:bold;text-decoration:none;margin-right:1em}
header .who{margin-left:auto;opacity:.8}
main{max-width:70em;margin:1.2em auto;padding:0 1.2em}
table{border-collapse:collapse;width:100%;margin:.6em 0 1.2em}
th,td{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#eef}
form.card,section.card{background:#fff;border:1px solid #ccc;padding:.8em 1em;margin:.8em 0}
label{display:block;margin:.5em 0 .15em;font-weight:600}
label.check{font-weight:normal}
input[type=text],input[type=email],input[type=password],select,textarea{width:100%;max-width:40em;box-sizing:border-box;padding:.3em}
textarea{min-height:5em}
button{margin-top:.7em;padding:.35em 1em}
form.inline{display:inline;margin:0}form.inline button{margin:0}
.error{color:#a00000;font-weight:600}.field-error{color:#a00000;margin:.1em 0}
.notice{background:#e6f4e6;border:1px solid #7a7;padding:.5em 1em}
.overdue{color:#a00000;font-weight:bold}
.photos{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.photos figure{margin:0}.photos img{max-width:240px;max-height:240px;border:1px solid #ccc}
code.token{font-size:1.1em;background:#ffe;padding:.3em;word-break:break-all}
";

fn nav_links(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::RightsHolder => &[
            ("/portal/notices", "Notices"),
            ("/portal/notices/new", "File a notice"),
            ("/portal/findings", "Detected listings"),
            ("/portal/brands", "Brands"),
            ("/portal/rights", "Rights"),
            ("/portal/submitter", "Accuracy record"),
        ],
        Role::Reviewer | Role::Admin => &[
            ("/portal/review", "Review queue"),
            ("/portal/review/findings", "Detection queue"),
            ("/portal/challenges", "Challenges"),
            ("/portal/rights/pending", "Rights to verify"),
        ],
        Role::Seller => &[("/portal/seller", "My removals")],
    }
}

/// A whole page: header with the user's navigation, then `body` under the title.
pub fn page(title: &str, user: Option<&PortalUser>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ipguard" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    a.brand href="/" { "ipguard" }
                    @if let Some(user) = user {
                        @for (href, label) in nav_links(user.principal.role) {
                            a href=(href) { (label) }
                        }
                        span.who { (user.principal.email) " (" (user.principal.role) ")" }
                        form.inline method="post" action="/logout" {
                            (csrf_field(user))
                            button type="submit" { "Log out" }
                        }
                    } @else {
                        a href="/report" { "Report without an account" }
                        a href="/track" { "Track a notice" }
                        a href="/login" { "Log in" }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The hidden field every POST form of a logged-in user carries.
pub fn csrf_field(user: &PortalUser) -> Markup {
    html! { input type="hidden" name="csrf" value=(user.csrf()); }
}

/// A stored time (Unix milliseconds) for people to read.
pub fn when(millis: i64) -> String {
    to_datetime(millis).format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn maybe_when(millis: Option<i64>) -> String {
    millis.map(when).unwrap_or_else(|| "—".to_owned())
}

/// What a notice item's status means, in words.
pub fn item_status_label(status: &str) -> &str {
    match status {
        "pending" => "waiting for review",
        "removed_pending_review" => "removed at once (trusted submitter), review pending",
        "upheld" => "upheld, listing removed",
        "rejected" => "rejected, no action",
        "restored" => "restored after a challenge",
        other => other,
    }
}

/// The errors that concern one form field, shown under it. `field` matches
/// the field itself and its parts (`listings` matches `listings[2].url`).
pub fn field_errors(errors: &[FieldError], field: &str) -> Markup {
    let belongs = |e: &&FieldError| {
        e.field == field
            || e.field
                .strip_prefix(field)
                .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
    };
    html! {
        @for error in errors.iter().filter(belongs) {
            p.field-error { (describe_field(&error.field)) ": " (error.message) }
        }
    }
}

/// Names a field as the form shows it: `listings[2].url` is the third listing line.
fn describe_field(field: &str) -> String {
    let index = field
        .strip_prefix("listings[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(index, _)| index.parse::<usize>().ok());
    match index {
        Some(index) => format!("listing line {}", index + 1),
        None => field.replace('_', " "),
    }
}

/// A statement of reasons, every element the DSA asks for.
pub fn statement(statement: &StatementOfReasons) -> Markup {
    let automation = |automated: bool| if automated { "yes" } else { "no" };
    html! {
        dl {
            dt { "Restriction" } dd { (statement.restriction) }
            dt { "Facts" } dd { (statement.facts) }
            dt { "Ground" }
            dd {
                (match statement.ground.kind {
                    ipguard_domain::reasons::GroundKind::Legal => "legal",
                    ipguard_domain::reasons::GroundKind::Contractual => "contractual",
                })
                ": " (statement.ground.reference) " — " (statement.ground.explanation)
            }
            dt { "Detected by automated means" } dd { (automation(statement.automated_detection)) }
            dt { "Decided by automated means" } dd { (automation(statement.automated_decision)) }
            dt { "Territorial scope" } dd { (statement.territorial_scope) }
            dt { "How to contest" } dd { (statement.redress) }
        }
    }
}

/// A one-line confirmation shown after a form succeeded.
pub fn flash(message: Option<String>) -> Markup {
    html! {
        @if let Some(message) = message {
            p.notice { (message) }
        }
    }
}
