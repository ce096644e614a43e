//! Notices as submitted, and the checks that need nothing but the notice.
//!
//! A notice is parsed into [`ValidNotice`] before anything is stored, and
//! every problem is reported at once with the field it concerns, so a
//! submitter (a small business filing by hand, most often) can fix the
//! notice in one go. Checks that need stored data (does the right exist and
//! belong to the submitter, is the listing known) belong to the service.

use crate::{InfringementType, IpRightKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most listings one notice may name; larger batches go through CSV, which
/// splits them into several notices.
pub const MAX_LISTINGS_PER_NOTICE: usize = 1000;

/// A listing named by a notice: a platform and its listing id, or the
/// listing's public URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ListingRef {
    Id {
        platform: String,
        listing_id: String,
    },
    Url {
        url: String,
    },
}

/// The statements the law expects from a notifier (DMCA §512(c)(3), DSA art. 16).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Declarations {
    /// Good-faith belief that the use is not authorised.
    #[serde(default)]
    pub good_faith: bool,
    /// The information in the notice is accurate.
    #[serde(default)]
    pub accurate: bool,
    /// The submitter owns the right or is authorised to act for its owner.
    #[serde(default)]
    pub authorised: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
}

/// How a submitter without an account identifies the right it relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RightReference {
    pub kind: IpRightKind,
    pub registration_number: String,
    /// Office or jurisdiction, e.g. "EUIPO" or "USPTO".
    pub office: String,
    /// The right's owner as registered.
    #[serde(default)]
    pub owner: String,
}

/// A notice as received. Fields are optional here so that a missing field is
/// reported with the others rather than as a bare deserialisation error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeInput {
    /// The submitter's IP right, for submitters with an account.
    #[serde(default)]
    pub right_id: Option<i64>,
    /// The right, for submitters without an account.
    #[serde(default)]
    pub right: Option<RightReference>,
    #[serde(default)]
    pub infringement_type: Option<InfringementType>,
    #[serde(default)]
    pub listings: Vec<ListingRef>,
    /// What is infringing and why, in the submitter's words.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub declarations: Declarations,
    #[serde(default)]
    pub contact: Option<Contact>,
}

/// Which kind of submitter filed, since they must identify the right differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitter {
    Account,
    Anonymous,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RightClaim {
    Registered(i64),
    Referenced(RightReference),
}

/// A notice whose shape is right; every field the law needs is present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNotice {
    pub right: RightClaim,
    pub infringement_type: InfringementType,
    pub listings: Vec<ListingRef>,
    pub description: String,
    pub contact: Contact,
}

/// One problem with one field, as returned to the submitter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl NoticeInput {
    /// Checks the notice, reporting every problem found.
    ///
    /// `default_contact` is the account holder's contact, used when a
    /// submitter with an account gives none.
    pub fn parse(
        self,
        submitter: Submitter,
        default_contact: Option<Contact>,
    ) -> Result<ValidNotice, Vec<FieldError>> {
        let mut errors = Vec::new();
        let right = match (submitter, self.right_id, self.right) {
            (Submitter::Account, Some(id), None) => Some(RightClaim::Registered(id)),
            (Submitter::Account, None, None) => {
                errors.push(FieldError::new(
                    "right_id",
                    "name the IP right the notice relies on",
                ));
                None
            }
            (Submitter::Account, _, Some(_)) => {
                errors.push(FieldError::new(
                    "right",
                    "submitters with an account name their registered right with right_id",
                ));
                None
            }
            (Submitter::Anonymous, None, Some(reference)) => {
                check_reference(&reference, &mut errors);
                Some(RightClaim::Referenced(reference))
            }
            (Submitter::Anonymous, Some(_), _) => {
                errors.push(FieldError::new(
                    "right_id",
                    "submitters without an account identify the right with `right` \
                     (kind, registration_number, office)",
                ));
                None
            }
            (Submitter::Anonymous, None, None) => {
                errors.push(FieldError::new(
                    "right",
                    "identify the IP right: kind, registration_number and office",
                ));
                None
            }
        };
        if self.infringement_type.is_none() {
            errors.push(FieldError::new(
                "infringement_type",
                "one of: counterfeit, trademark_misuse, copyright, design, patent",
            ));
        }
        check_listings(&self.listings, &mut errors);
        if self.description.trim().chars().count() < 10 {
            errors.push(FieldError::new(
                "description",
                "describe what infringes the right and why (at least 10 characters)",
            ));
        }
        let declarations = [
            (
                self.declarations.good_faith,
                "declarations.good_faith",
                "good-faith belief",
            ),
            (
                self.declarations.accurate,
                "declarations.accurate",
                "accuracy",
            ),
            (
                self.declarations.authorised,
                "declarations.authorised",
                "authority to act",
            ),
        ];
        for (given, field, what) in declarations {
            if !given {
                errors.push(FieldError::new(
                    field,
                    format!("the statement of {what} is required"),
                ));
            }
        }
        let contact = self.contact.or(default_contact).unwrap_or_default();
        check_contact(&contact, &mut errors);
        match (right, self.infringement_type) {
            (Some(right), Some(infringement_type)) if errors.is_empty() => Ok(ValidNotice {
                right,
                infringement_type,
                listings: self.listings,
                description: self.description.trim().to_owned(),
                contact,
            }),
            _ => Err(errors),
        }
    }
}

fn check_reference(reference: &RightReference, errors: &mut Vec<FieldError>) {
    if reference.registration_number.trim().is_empty() {
        errors.push(FieldError::new("right.registration_number", "required"));
    }
    if reference.office.trim().is_empty() {
        errors.push(FieldError::new(
            "right.office",
            "required, e.g. EUIPO or USPTO",
        ));
    }
}

fn check_listings(listings: &[ListingRef], errors: &mut Vec<FieldError>) {
    if listings.is_empty() {
        errors.push(FieldError::new("listings", "name at least one listing"));
    }
    if listings.len() > MAX_LISTINGS_PER_NOTICE {
        errors.push(FieldError::new(
            "listings",
            format!("at most {MAX_LISTINGS_PER_NOTICE} listings per notice; use the CSV upload"),
        ));
    }
    for (i, listing) in listings.iter().enumerate() {
        match listing {
            ListingRef::Id {
                platform,
                listing_id,
            } => {
                if platform.trim().is_empty() || listing_id.trim().is_empty() {
                    errors.push(FieldError::new(
                        format!("listings[{i}]"),
                        "platform and listing_id must not be empty",
                    ));
                }
            }
            ListingRef::Url { url } => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    errors.push(FieldError::new(
                        format!("listings[{i}].url"),
                        "must be an http(s) URL of a listing",
                    ));
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, listing) in listings.iter().enumerate() {
        if !seen.insert(listing) {
            errors.push(FieldError::new(
                format!("listings[{i}]"),
                "listing named twice",
            ));
        }
    }
}

fn check_contact(contact: &Contact, errors: &mut Vec<FieldError>) {
    if contact.name.trim().is_empty() {
        errors.push(FieldError::new("contact.name", "required"));
    }
    let email = contact.email.trim();
    let plausible = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if !plausible {
        errors.push(FieldError::new(
            "contact.email",
            "a valid email address is required",
        ));
    }
}

/// Resolves a listing URL to (platform, listing id) using each platform's
/// listing URL prefix; the listing id is the path segment after the prefix.
pub fn resolve_url<'a>(
    url: &str,
    platforms: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<(String, String)> {
    platforms.into_iter().find_map(|(platform, prefix)| {
        let rest = url.strip_prefix(prefix)?;
        let id = rest
            .split(['?', '#', '/'])
            .next()
            .filter(|id| !id.is_empty())?;
        Some((platform.to_owned(), id.to_owned()))
    })
}

/// One row of a bulk notice CSV file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct CsvRow {
    right_id: i64,
    infringement_type: InfringementType,
    #[serde(default)]
    platform: String,
    #[serde(default)]
    listing_id: String,
    #[serde(default)]
    url: String,
    description: String,
}

/// Parses a bulk notice CSV into notices: rows that share a right and an
/// infringement type become one notice (its description is the first row's),
/// split so no notice exceeds [`MAX_LISTINGS_PER_NOTICE`].
///
/// Columns: `right_id,infringement_type,platform,listing_id,url,description`
/// with either `platform`+`listing_id` or `url` filled. The declarations are
/// made once for the whole file. All-or-nothing: any bad row rejects the file,
/// and every bad row is reported with its line number.
pub fn parse_notice_csv(
    data: &[u8],
    declarations: Declarations,
    contact: Contact,
) -> Result<Vec<ValidNotice>, Vec<FieldError>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(data);
    let mut errors = Vec::new();
    let mut groups: Vec<(i64, InfringementType, String, Vec<ListingRef>)> = Vec::new();
    for (index, row) in reader.deserialize::<CsvRow>().enumerate() {
        // Line 1 is the header.
        let line = index + 2;
        let row = match row {
            Ok(row) => row,
            Err(err) => {
                let message = match err.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
                    _ => err.to_string(),
                };
                errors.push(FieldError::new(format!("line {line}"), message));
                continue;
            }
        };
        let listing = match (
            row.url.is_empty(),
            row.platform.is_empty() || row.listing_id.is_empty(),
        ) {
            (false, true) => ListingRef::Url { url: row.url },
            (true, false) => ListingRef::Id {
                platform: row.platform,
                listing_id: row.listing_id,
            },
            _ => {
                errors.push(FieldError::new(
                    format!("line {line}"),
                    "give either platform and listing_id, or url",
                ));
                continue;
            }
        };
        let open = groups.iter_mut().find(|(right, kind, _, listings)| {
            *right == row.right_id
                && *kind == row.infringement_type
                && listings.len() < MAX_LISTINGS_PER_NOTICE
        });
        match open {
            Some((_, _, _, listings)) => listings.push(listing),
            None => groups.push((
                row.right_id,
                row.infringement_type,
                row.description,
                vec![listing],
            )),
        }
    }
    if groups.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("file", "no rows after the header"));
    }
    let mut notices = Vec::new();
    for (right_id, kind, description, listings) in groups {
        let input = NoticeInput {
            right_id: Some(right_id),
            right: None,
            infringement_type: Some(kind),
            listings,
            description,
            declarations: declarations.clone(),
            contact: Some(contact.clone()),
        };
        match input.parse(Submitter::Account, None) {
            Ok(notice) => notices.push(notice),
            Err(mut problems) => errors.append(&mut problems),
        }
    }
    if errors.is_empty() {
        Ok(notices)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> Declarations {
        Declarations {
            good_faith: true,
            accurate: true,
            authorised: true,
        }
    }

    fn contact() -> Contact {
        Contact {
            name: "Acme".into(),
            email: "legal@acme.example".into(),
            phone: None,
        }
    }

    #[test]
    fn empty_notice_reports_every_missing_element_at_once() {
        let errors = NoticeInput::default()
            .parse(Submitter::Account, None)
            .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        for field in [
            "right_id",
            "infringement_type",
            "listings",
            "description",
            "declarations.good_faith",
            "declarations.accurate",
            "declarations.authorised",
            "contact.name",
            "contact.email",
        ] {
            assert!(fields.contains(&field), "missing {field} in {fields:?}");
        }
    }

    #[test]
    fn anonymous_submitter_must_reference_the_right_by_registration() {
        let input = NoticeInput {
            right_id: Some(3),
            infringement_type: Some(InfringementType::Counterfeit),
            listings: vec![ListingRef::Url {
                url: "https://bazaar.example/item/9".into(),
            }],
            description: "Fake handbags with our logo".into(),
            declarations: declared(),
            contact: Some(contact()),
            ..NoticeInput::default()
        };
        let errors = input.parse(Submitter::Anonymous, None).unwrap_err();
        assert_eq!(errors[0].field, "right_id");
    }

    #[test]
    fn duplicate_listing_in_one_notice_is_reported() {
        let listing = ListingRef::Id {
            platform: "bazaar".into(),
            listing_id: "L1".into(),
        };
        let input = NoticeInput {
            right_id: Some(1),
            infringement_type: Some(InfringementType::Counterfeit),
            listings: vec![listing.clone(), listing],
            description: "Fake handbags with our logo".into(),
            declarations: declared(),
            ..NoticeInput::default()
        };
        let errors = input
            .parse(Submitter::Account, Some(contact()))
            .unwrap_err();
        assert_eq!(
            errors,
            vec![FieldError::new("listings[1]", "listing named twice")]
        );
    }

    #[test]
    fn url_resolves_by_platform_prefix() {
        let platforms = [
            ("bazaar", "https://bazaar.example/item/"),
            ("mall", "https://mall.example/p/"),
        ];
        assert_eq!(
            resolve_url("https://mall.example/p/A77?ref=x", platforms),
            Some(("mall".into(), "A77".into()))
        );
        assert_eq!(resolve_url("https://other.example/p/A77", platforms), None);
    }

    #[test]
    fn csv_groups_rows_by_right_and_type_and_reports_bad_lines() {
        let good = "right_id,infringement_type,platform,listing_id,url,description\n\
                    1,counterfeit,bazaar,L1,,Fake sneakers with our logo\n\
                    1,counterfeit,,,https://bazaar.example/item/L2,ignored\n\
                    2,copyright,bazaar,L3,,Our product photo reused\n";
        let notices = parse_notice_csv(good.as_bytes(), declared(), contact()).unwrap();
        assert_eq!(notices.len(), 2);
        assert_eq!(notices[0].listings.len(), 2);

        let bad = "right_id,infringement_type,platform,listing_id,url,description\n\
                   x,counterfeit,bazaar,L1,,Fake sneakers with our logo\n\
                   1,forgery,bazaar,L1,,Fake sneakers with our logo\n\
                   1,counterfeit,,,,Fake sneakers with our logo\n";
        let errors = parse_notice_csv(bad.as_bytes(), declared(), contact()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["line 2", "line 3", "line 4"]);
    }
}
