//! The attack-surface ports: what a device listening on them exposes (triage, the port drift,
//! charts, and the fleet screens a source runs where the data lies).

/// A TCP port an IoT device exposes to attack by listening on it, and what it is usually for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurfacePort {
    /// Port number.
    pub port: i64,
    /// What listens there, and why it matters on a device.
    pub what: &'static str,
    /// A service no IoT device of a fleet should expose: flagged from the first report it
    /// appears in, whatever its history. The others (remote management, web UIs) are flagged
    /// when they appear where they were not before or where no peer has them.
    pub risky: bool,
}

/// The attack-surface ports, in one place (triage reasons, the port-drift table, charts).
pub const ATTACK_SURFACE: [SurfacePort; 16] = [
    SurfacePort {
        port: 21,
        what: "FTP: cleartext logins, a drop point for malware and stolen data",
        risky: true,
    },
    SurfacePort {
        port: 22,
        what: "SSH: remote shell, brute-forced by IoT botnets",
        risky: false,
    },
    SurfacePort {
        port: 23,
        what: "Telnet: cleartext remote shell, Mirai's way in",
        risky: true,
    },
    SurfacePort {
        port: 80,
        what: "HTTP: web management interface",
        risky: false,
    },
    SurfacePort {
        port: 443,
        what: "HTTPS: web management interface",
        risky: false,
    },
    SurfacePort {
        port: 1080,
        what: "SOCKS proxy: the device relays others' traffic (a rented residential proxy)",
        risky: true,
    },
    SurfacePort {
        port: 2323,
        what: "alternate Telnet, scanned and used by Mirai",
        risky: true,
    },
    SurfacePort {
        port: 4444,
        what: "Metasploit's default shell port: a bind or reverse shell",
        risky: true,
    },
    SurfacePort {
        port: 5555,
        what: "Android Debug Bridge: remote code execution (ADB.Miner)",
        risky: true,
    },
    SurfacePort {
        port: 5900,
        what: "VNC: remote desktop",
        risky: true,
    },
    SurfacePort {
        port: 6667,
        what: "IRC: a classic botnet command channel",
        risky: true,
    },
    SurfacePort {
        port: 7547,
        what: "TR-069/CWMP remote management, exploited by Mirai variants",
        risky: true,
    },
    SurfacePort {
        port: 8080,
        what: "HTTP (alternate): web management or a proxy",
        risky: false,
    },
    SurfacePort {
        port: 8081,
        what: "HTTP (alternate): web management",
        risky: false,
    },
    SurfacePort {
        port: 37215,
        what: "Huawei HG532 UPnP, exploited by Satori and Mirai (CVE-2017-17215)",
        risky: true,
    },
    SurfacePort {
        port: 52869,
        what: "Realtek SDK UPnP, exploited by IoT botnets (CVE-2014-8361)",
        risky: true,
    },
];

/// The attack-surface entry of a port, if it is one.
pub fn surface_port(port: i64) -> Option<&'static SurfacePort> {
    ATTACK_SURFACE.iter().find(|p| p.port == port)
}

/// Whether a port is an attack-surface port.
pub fn is_attack_surface(port: i64) -> bool {
    surface_port(port).is_some()
}
