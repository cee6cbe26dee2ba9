//! The one bounded reader: every secret or value amhash reads from a stream (standard input,
//! a file, the terminal, a helper's pipe) goes through [`read_all`] or [`read_line`], so no
//! input can make it allocate without bound, and what was read is zeroized on drop.

use std::io::{self, BufRead, Read};

use zeroize::Zeroizing;

/// Why a bounded read failed.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// More than the limit arrived.
    #[error("longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
}

/// Everything `reader` gives, at most `max` bytes. The buffer is sized once for `max` (up to
/// 64 KiB, then grown as needed) so that a secret is not left behind in a freed reallocation.
///
/// # Errors
/// [`InputError::TooLong`] past `max` bytes, [`InputError::Io`].
pub fn read_all(reader: impl Read, max: usize) -> Result<Zeroizing<Vec<u8>>, InputError> {
    let mut buf = Zeroizing::new(Vec::with_capacity(max.min(1 << 20) + 1));
    reader.take(max as u64 + 1).read_to_end(&mut buf)?;
    if buf.len() > max {
        return Err(InputError::TooLong { max });
    }
    Ok(buf)
}

/// The first line of `reader`, up to and including its `\n` when there is one (as Python's
/// `readline()` reads it), at most `max` bytes.
///
/// # Errors
/// [`InputError::TooLong`] past `max` bytes, [`InputError::Io`].
pub fn read_line(reader: impl Read, max: usize) -> Result<Zeroizing<Vec<u8>>, InputError> {
    let mut line = Zeroizing::new(Vec::with_capacity(max.min(4096) + 1));
    io::BufReader::new(reader.take(max as u64 + 1)).read_until(b'\n', &mut line)?;
    if line.len() > max {
        return Err(InputError::TooLong { max });
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_hold_at_the_boundary() {
        assert_eq!(*read_all(&b"abc"[..], 3).unwrap(), b"abc");
        assert!(matches!(
            read_all(&b"abcd"[..], 3),
            Err(InputError::TooLong { max: 3 })
        ));
        assert_eq!(*read_line(&b"ab\ncd"[..], 3).unwrap(), b"ab\n");
        assert_eq!(*read_line(&b"abc"[..], 3).unwrap(), b"abc");
        assert!(matches!(
            read_line(&b"abcd\n"[..], 3),
            Err(InputError::TooLong { .. })
        ));
        assert_eq!(*read_line(&b""[..], 3).unwrap(), b"");
    }
}
