//! Enums whose values have fixed names (AM's formats, ciphers and key derivation digests): each
//! name written once, in a table next to the enum, and the methods that go with it.

/// For `enum $ty`, from the name of each variant: `ALL` (every value, in order), `as_str` and
/// `Display` (the name), and `from_name` (the value with that name in any letter case, as AM
/// reads its settings). With `unknown: E = F`, also `FromStr` by `from_name`, failing with
/// `F(the string given)` of type `E`.
macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: [$ty; [$($name),+].len()] = [$($ty::$variant),+];

            /// The name, as AM writes it; what `Display` writes.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }

            /// The value named `name`, in any letter case.
            fn from_name(name: &str) -> Option<Self> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str().eq_ignore_ascii_case(name))
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    ($ty:ident { $($table:tt)+ } unknown: $err:ty = $unknown:expr) => {
        $crate::names::names!($ty { $($table)+ });

        impl std::str::FromStr for $ty {
            type Err = $err;

            /// The name in any letter case.
            fn from_str(s: &str) -> Result<Self, $err> {
                Self::from_name(s).ok_or_else(|| ($unknown)(s.to_owned()))
            }
        }
    };
}

pub(crate) use names;
