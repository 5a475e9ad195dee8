//! Account values that are checked once, on the way in, and trusted afterwards
//! ("parse, don't validate"). Nothing here knows HTTP, GraphQL or the database.

mod email;
mod password;
mod token;
mod username;

#[cfg(test)]
mod proptests;

pub use email::Email;
pub use password::{NewPassword, PasswordPolicy, normalise as normalise_password};
pub use token::{SessionToken, TokenHash};
pub use username::Username;

/// Messages shared by several fields, worded as Django REST Framework words
/// them so that legacy clients showing `errors` to people see familiar text.
pub mod messages {
    pub const REQUIRED: &str = "This field is required.";
    pub const BLANK: &str = "This field may not be blank.";
    pub const NULL: &str = "This field may not be null.";
    pub const NOT_A_STRING: &str = "Not a valid string.";
}

/// The case-insensitive key of a string: Unicode default case folding, then
/// NFKC again because folding can undo a normalisation (NFKC_Casefold in spirit).
fn case_key(value: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    caseless::default_case_fold_str(value).nfkc().collect()
}
