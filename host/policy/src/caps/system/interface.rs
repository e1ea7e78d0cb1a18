//! `system.interface-up`: administratively up and with carrier, from sysfs.
//!
//! Any interface may be asked about; the name is checked first ([`up_in`]) so
//! that it cannot lead out of the sysfs directory.

use std::fs;
use std::path::Path;

use crate::caps::CapError;

const IFF_UP: u32 = 0x1;

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b.is_ascii_whitespace() || b == 0)
}

/// Reads `<sys_net>/NAME/{flags,carrier,operstate}`. Up means IFF_UP, carrier `1`
/// (unreadable while the device is down), and an operstate of `up` or `unknown`
/// (loopback and some virtual devices never report `up`). sysfs `flags` never shows
/// IFF_RUNNING, hence `carrier`.
pub fn up_in(sys_net: &Path, name: &str) -> Result<bool, CapError> {
    if !valid_name(name) {
        return Err(CapError::Failed(format!("{name:?} is not an interface name")));
    }
    let dir = sys_net.join(name);
    let flags = match fs::read_to_string(dir.join("flags")) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(CapError::Refused),
        Err(e) => return Err(CapError::from_io(&e)),
    };
    let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16)
        .map_err(|_| CapError::Failed(format!("unreadable flags for {name}")))?;
    let carrier = fs::read_to_string(dir.join("carrier")).is_ok_and(|c| c.trim() == "1");
    let oper = fs::read_to_string(dir.join("operstate")).map_err(|e| CapError::from_io(&e))?;
    let oper_ok = matches!(oper.trim(), "up" | "unknown");
    Ok(flags & IFF_UP != 0 && carrier && oper_ok)
}

pub fn up(name: &str) -> Result<bool, CapError> {
    up_in(Path::new("/sys/class/net"), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_up() {
        assert_eq!(up("lo"), Ok(true));
    }

    #[test]
    fn missing_and_bad_names() {
        assert_eq!(up("nosuchif0"), Err(CapError::Refused));
        assert!(matches!(up("../../etc"), Err(CapError::Failed(_))));
        assert!(matches!(up(""), Err(CapError::Failed(_))));
    }

    #[test]
    fn down_and_no_carrier() {
        let dir = std::env::temp_dir().join(format!("baton-sysnet-{}", std::process::id()));
        for (name, flags, carrier, oper) in [
            ("d0", "0x1002", None, "down"),
            ("n0", "0x1003", Some("0"), "down"),
            ("u0", "0x1003", Some("1"), "up"),
        ] {
            fs::create_dir_all(dir.join(name)).unwrap();
            fs::write(dir.join(name).join("flags"), format!("{flags}\n")).unwrap();
            fs::write(dir.join(name).join("operstate"), format!("{oper}\n")).unwrap();
            if let Some(c) = carrier {
                fs::write(dir.join(name).join("carrier"), format!("{c}\n")).unwrap();
            }
        }
        assert_eq!(up_in(&dir, "d0"), Ok(false));
        assert_eq!(up_in(&dir, "n0"), Ok(false));
        assert_eq!(up_in(&dir, "u0"), Ok(true));
        fs::remove_dir_all(&dir).unwrap();
    }
}
