//! 统一社会信用代码 (GB 32100-2015): 18 characters from `0-9A-HJ-NPQRTUWXY`, the last a check
//! character over the first 17.

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A validated, normalised USCC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uscc(String);

impl Uscc {
    /// Normalises (trim, full-width → half-width, upper case) and validates.
    pub fn parse(raw: &str) -> Result<Uscc, String> {
        let normalised: String = raw
            .trim()
            .chars()
            .map(|c| match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                _ => c,
            })
            .collect::<String>()
            .to_uppercase();
        let count = normalised.chars().count();
        if count != 18 {
            return Err(format!("must be 18 characters, got {count}"));
        }
        let mut sum = 0u32;
        for (i, c) in normalised.bytes().enumerate() {
            let Some(value) = ALPHABET.iter().position(|&a| a == c) else {
                return Err(format!(
                    "character {} ({:?}) is not allowed (0-9 and A-Z without I, O, S, V, Z)",
                    i + 1,
                    c as char
                ));
            };
            if i < 17 {
                sum += WEIGHTS[i] * value as u32;
            } else {
                let expected = ALPHABET[((31 - sum % 31) % 31) as usize] as char;
                if c as char != expected {
                    return Err(format!(
                        "check character does not match (expected {expected})"
                    ));
                }
            }
        }
        Ok(Uscc(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vectors() {
        for ok in [
            "914313009B2YGXAG2A",
            "91431302PMYCJ7G420",
            "91431321UCD8N3RF15",
            "91431322L1PMUA345A",
            "91431381HJMQC1G74R",
            "9143138224T64A9UXY",
            "12440300MB2C92173E",
        ] {
            assert_eq!(Uscc::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "914313009B2YGXAG20",
            "12440300MB2C92173A",
            "O14313009B2YGXAG2A",
            "91431302PMYCJ7G42",
        ] {
            assert!(Uscc::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn normalises_case_and_full_width() {
        assert_eq!(
            Uscc::parse(" ９１４３１３００９ｂ２ygxag2a ")
                .unwrap()
                .as_str(),
            "914313009B2YGXAG2A"
        );
    }
}
