//! The parts of a notice form that the account form and the no-account
//! report form share: the listings box, the infringement type and the three
//! declarations.

use super::layout::field_errors;
use crate::AppState;
use ipguard_domain::InfringementType;
use ipguard_domain::notice::{Declarations, FieldError, ListingRef};
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

/// The shared fields as the browser sends them. Everything is text so that
/// a wrong value becomes a field error from the domain's notice checks, not
/// a rejected form.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct SharedFields {
    pub infringement_type: String,
    /// The platform of listing lines that give a bare listing id.
    pub platform: String,
    /// One listing a line: a URL, `platform:listing-id`, or a bare id on `platform`.
    pub listings: String,
    pub description: String,
    pub good_faith: Option<String>,
    pub accurate: Option<String>,
    pub authorised: Option<String>,
}

impl SharedFields {
    pub fn infringement_type(&self) -> Option<InfringementType> {
        self.infringement_type.parse().ok()
    }

    pub fn declarations(&self) -> Declarations {
        Declarations {
            good_faith: super::ticked(&self.good_faith),
            accurate: super::ticked(&self.accurate),
            authorised: super::ticked(&self.authorised),
        }
    }

    /// The listing lines as references; `platforms` are the known platform
    /// ids, so `bazaar:L1` names platform `bazaar` while an id that merely
    /// contains a colon stays whole.
    pub fn listing_refs(&self, platforms: &[String]) -> Vec<ListingRef> {
        self.listings
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| {
                if line.starts_with("https://") || line.starts_with("http://") {
                    return ListingRef::Url {
                        url: line.to_owned(),
                    };
                }
                match line.split_once(':') {
                    Some((platform, id)) if platforms.iter().any(|p| p == platform.trim()) => {
                        ListingRef::Id {
                            platform: platform.trim().to_owned(),
                            listing_id: id.trim().to_owned(),
                        }
                    }
                    _ => ListingRef::Id {
                        platform: self.platform.trim().to_owned(),
                        listing_id: line.to_owned(),
                    },
                }
            })
            .collect()
    }
}

/// The platform ids, for the platform choice and for reading listing lines.
pub async fn platform_ids(state: &AppState) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query("SELECT id FROM platforms ORDER BY id")
        .fetch_all(state.store.pool())
        .await?
        .iter()
        .map(|row| row.try_get("id"))
        .collect()
}

pub fn infringement_type_field(values: &SharedFields, errors: &[FieldError]) -> Markup {
    html! {
        label for="infringement_type" { "Infringement type" }
        select id="infringement_type" name="infringement_type" {
            option value="" { "— choose —" }
            @for kind in InfringementType::ALL {
                option value=(kind.as_str()) selected[values.infringement_type == kind.as_str()] {
                    (kind.as_str().replace('_', " "))
                }
            }
        }
        (field_errors(errors, "infringement_type"))
    }
}

pub fn listing_fields(
    values: &SharedFields,
    platforms: &[String],
    errors: &[FieldError],
) -> Markup {
    html! {
        label for="platform" { "Platform of bare listing ids" }
        select id="platform" name="platform" {
            @for platform in platforms {
                option value=(platform) selected[values.platform == *platform] { (platform) }
            }
        }
        label for="listings" { "Listings, one a line: the listing's URL, platform:listing-id, or a bare listing id" }
        textarea id="listings" name="listings" rows="6" { (values.listings) }
        (field_errors(errors, "listings"))
        label for="description" { "What infringes the right, and why" }
        textarea id="description" name="description" rows="4" { (values.description) }
        (field_errors(errors, "description"))
    }
}

pub fn declaration_fields(values: &SharedFields, errors: &[FieldError]) -> Markup {
    let boxes = [
        (
            "good_faith",
            &values.good_faith,
            "I believe in good faith that the use described is not authorised by the right's owner, its agent or the law.",
        ),
        (
            "accurate",
            &values.accurate,
            "The information in this notice is accurate.",
        ),
        (
            "authorised",
            &values.authorised,
            "I own the right or am authorised to act for its owner.",
        ),
    ];
    html! {
        @for (name, value, text) in boxes {
            label.check {
                input type="checkbox" name=(name) value="yes" checked[value.is_some()];
                " " (text)
            }
            (field_errors(errors, &format!("declarations.{name}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(listings: &str) -> SharedFields {
        SharedFields {
            platform: "bazaar".to_owned(),
            listings: listings.to_owned(),
            ..SharedFields::default()
        }
    }

    #[test]
    fn listing_lines_become_urls_prefixed_ids_and_bare_ids() {
        let platforms = vec!["bazaar".to_owned(), "mall".to_owned()];
        let refs = fields("https://mall.example/item/9\n\n mall:M7 \nL1\nweird:id")
            .listing_refs(&platforms);
        assert_eq!(
            refs,
            vec![
                ListingRef::Url {
                    url: "https://mall.example/item/9".to_owned()
                },
                ListingRef::Id {
                    platform: "mall".to_owned(),
                    listing_id: "M7".to_owned()
                },
                ListingRef::Id {
                    platform: "bazaar".to_owned(),
                    listing_id: "L1".to_owned()
                },
                ListingRef::Id {
                    platform: "bazaar".to_owned(),
                    listing_id: "weird:id".to_owned()
                },
            ]
        );
    }

    #[test]
    fn only_ticked_declarations_count() {
        let mut values = fields("");
        values.good_faith = Some("yes".to_owned());
        let declared = values.declarations();
        assert!(declared.good_faith);
        assert!(!declared.accurate && !declared.authorised);
    }
}
