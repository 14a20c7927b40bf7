//! The role of the firewall being checked, and what a role-relative
//! direction (egress, ingress, local) means in it.
//!
//! Apple's table gives ports, not directions. Profiles say who starts the
//! connection, relative to the Apple device: `egress` for what the device
//! initiates (towards Apple's services or the Internet), `ingress` for what a
//! Mac offers to others, `local` for what it speaks with its neighbours on
//! the local link. The same profile then serves two kinds of firewall:
//!
//! - `host`, the device's own firewall: egress is outbound, ingress inbound,
//!   local both.
//! - `gateway`, a router in front of a LAN of Apple devices: egress is
//!   forwarded from the LAN side to the other side, ingress the reverse, and
//!   local is the gateway's own exchange with its LAN side (the side where
//!   Bonjour's mDNS and NAT-PMP queries reach it).
//!
//! The LAN side of a gateway is given by interface (`--lan-interface br0`,
//! `eth1`, `vlan+`) and/or by network (`--lan-network 192.168.1.0/24`). The
//! other side is every other interface and address, unless
//! `--wan-interface` names the interfaces that lead out.

use crate::eval::{Direction, InterfaceSet};
use driftwall_parsers::model::Interface;
use ipnet::IpNet;
use serde::Serialize;

/// A direction as a policy writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DirectionSpec {
    Inbound,
    Outbound,
    Forward,
    Egress,
    Ingress,
    Local,
}

impl DirectionSpec {
    pub const NAMES: &'static str = "inbound, outbound, forward, egress, ingress or local";

    pub fn parse(s: &str) -> Option<DirectionSpec> {
        Some(match s {
            "inbound" => DirectionSpec::Inbound,
            "outbound" => DirectionSpec::Outbound,
            "forward" => DirectionSpec::Forward,
            "egress" => DirectionSpec::Egress,
            "ingress" => DirectionSpec::Ingress,
            "local" => DirectionSpec::Local,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            DirectionSpec::Inbound => "inbound",
            DirectionSpec::Outbound => "outbound",
            DirectionSpec::Forward => "forward",
            DirectionSpec::Egress => "egress",
            DirectionSpec::Ingress => "ingress",
            DirectionSpec::Local => "local",
        }
    }

    /// Whether the meaning depends on the role.
    pub fn is_relative(self) -> bool {
        matches!(
            self,
            DirectionSpec::Egress | DirectionSpec::Ingress | DirectionSpec::Local
        )
    }

    /// What the direction means in each role, for `policies show`.
    pub fn meaning(self) -> &'static str {
        match self {
            DirectionSpec::Inbound => "to this host",
            DirectionSpec::Outbound => "from this host",
            DirectionSpec::Forward => "through this host",
            DirectionSpec::Egress => "host: outbound; gateway: forwarded from the LAN side out",
            DirectionSpec::Ingress => {
                "host: inbound; gateway: forwarded from outside to the LAN side"
            }
            DirectionSpec::Local => {
                "host: inbound and outbound; gateway: between the gateway and its LAN side"
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RoleKind {
    /// The firewall of the Apple device itself (or of any single host).
    #[default]
    Host,
    /// A router or firewall in front of a LAN of Apple devices.
    Gateway,
}

/// The role a policy is checked in.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Role {
    pub kind: RoleKind,
    /// The LAN side of a gateway: interfaces (`+` wildcards allowed) and networks.
    pub lan_interfaces: Vec<Interface>,
    pub lan_networks: Vec<IpNet>,
    /// The interfaces that lead out; empty is every interface but the LAN
    /// ones (and loopback).
    pub wan_interfaces: Vec<Interface>,
}

/// A set of addresses: some (or all), minus some.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AddressSet {
    /// `None` is every address.
    pub only: Option<Vec<IpNet>>,
    pub except: Vec<IpNet>,
}

/// The concrete part of a requirement that a role fixes: the direction, and
/// which side the connection comes from and goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub direction: Direction,
    pub iif: InterfaceSet,
    pub oif: InterfaceSet,
    pub from: AddressSet,
    pub to: AddressSet,
}

/// Multicast, where the local link's discovery traffic (mDNS, SSDP) goes.
fn multicast() -> Vec<IpNet> {
    vec![
        "224.0.0.0/4".parse().expect("literal"),
        "ff00::/8".parse().expect("literal"),
    ]
}

/// Why a direction makes no sense in a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoleError {
    #[error(
        "direction `forward` makes no sense for a host, which does not forward; check it with --role gateway"
    )]
    ForwardOnHost,
    #[error("direction `{0}` needs the gateway's LAN side: give --lan-interface or --lan-network")]
    NoLan(&'static str),
}

impl Role {
    pub fn has_lan(&self) -> bool {
        !self.lan_interfaces.is_empty() || !self.lan_networks.is_empty()
    }

    /// The scopes a direction stands for in this role, or why it makes no
    /// sense here.
    pub fn scopes(&self, spec: DirectionSpec) -> Result<Vec<Scope>, RoleError> {
        let plain = |direction| Scope {
            direction,
            iif: InterfaceSet::default(),
            oif: InterfaceSet::default(),
            from: AddressSet::default(),
            to: AddressSet::default(),
        };
        let lan_if = || InterfaceSet {
            only: (!self.lan_interfaces.is_empty()).then(|| self.lan_interfaces.clone()),
            except: Vec::new(),
        };
        let wan_if = || match self.wan_interfaces.is_empty() {
            true => InterfaceSet {
                only: None,
                except: self.lan_interfaces.clone(),
            },
            false => InterfaceSet {
                only: Some(self.wan_interfaces.clone()),
                except: Vec::new(),
            },
        };
        let lan_net = || AddressSet {
            only: (!self.lan_networks.is_empty()).then(|| self.lan_networks.clone()),
            except: Vec::new(),
        };
        let wan_net = || AddressSet {
            only: None,
            except: self.lan_networks.clone(),
        };
        match (self.kind, spec) {
            (RoleKind::Host, DirectionSpec::Forward) => Err(RoleError::ForwardOnHost),
            (_, DirectionSpec::Inbound) => Ok(vec![plain(Direction::Inbound)]),
            (_, DirectionSpec::Outbound) => Ok(vec![plain(Direction::Outbound)]),
            (_, DirectionSpec::Forward) => Ok(vec![plain(Direction::Forward)]),
            (RoleKind::Host, DirectionSpec::Egress) => Ok(vec![plain(Direction::Outbound)]),
            (RoleKind::Host, DirectionSpec::Ingress) => Ok(vec![plain(Direction::Inbound)]),
            (RoleKind::Host, DirectionSpec::Local) => {
                Ok(vec![plain(Direction::Inbound), plain(Direction::Outbound)])
            }
            (RoleKind::Gateway, s) if !self.has_lan() => Err(RoleError::NoLan(s.name())),
            (RoleKind::Gateway, DirectionSpec::Egress) => Ok(vec![Scope {
                direction: Direction::Forward,
                iif: lan_if(),
                oif: wan_if(),
                from: lan_net(),
                to: wan_net(),
            }]),
            (RoleKind::Gateway, DirectionSpec::Ingress) => Ok(vec![Scope {
                direction: Direction::Forward,
                iif: wan_if(),
                oif: lan_if(),
                from: wan_net(),
                to: lan_net(),
            }]),
            (RoleKind::Gateway, DirectionSpec::Local) => {
                // The gateway's own address on the LAN is in the LAN
                // networks; discovery also goes to multicast groups.
                let near = || AddressSet {
                    only: (!self.lan_networks.is_empty()).then(|| {
                        self.lan_networks
                            .iter()
                            .copied()
                            .chain(multicast())
                            .collect()
                    }),
                    except: Vec::new(),
                };
                Ok(vec![
                    Scope {
                        direction: Direction::Inbound,
                        iif: lan_if(),
                        oif: InterfaceSet::default(),
                        from: lan_net(),
                        to: near(),
                    },
                    Scope {
                        direction: Direction::Outbound,
                        iif: InterfaceSet::default(),
                        oif: lan_if(),
                        from: lan_net(),
                        to: near(),
                    },
                ])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gw(ifaces: &[&str], nets: &[&str]) -> Role {
        Role {
            kind: RoleKind::Gateway,
            lan_interfaces: ifaces
                .iter()
                .map(|s| Interface {
                    name: s.trim_end_matches('+').into(),
                    wildcard: s.ends_with('+'),
                })
                .collect(),
            lan_networks: nets.iter().map(|s| s.parse().unwrap()).collect(),
            wan_interfaces: Vec::new(),
        }
    }

    #[test]
    fn a_host_maps_relative_directions_to_its_own_traffic() {
        let host = Role::default();
        assert_eq!(
            host.scopes(DirectionSpec::Egress).unwrap()[0].direction,
            Direction::Outbound
        );
        assert_eq!(
            host.scopes(DirectionSpec::Ingress).unwrap()[0].direction,
            Direction::Inbound
        );
        let local: Vec<Direction> = host
            .scopes(DirectionSpec::Local)
            .unwrap()
            .iter()
            .map(|s| s.direction)
            .collect();
        assert_eq!(local, vec![Direction::Inbound, Direction::Outbound]);
        assert!(
            host.scopes(DirectionSpec::Forward)
                .unwrap_err()
                .to_string()
                .contains("--role gateway")
        );
    }

    #[test]
    fn a_gateway_forwards_between_its_sides() {
        let g = gw(&["br0"], &[]);
        let e = &g.scopes(DirectionSpec::Egress).unwrap()[0];
        assert_eq!(e.direction, Direction::Forward);
        assert_eq!(e.iif.only.as_ref().unwrap()[0].name, "br0");
        assert!(e.oif.only.is_none() && e.oif.except[0].name == "br0");
        let i = &g.scopes(DirectionSpec::Ingress).unwrap()[0];
        assert_eq!(
            (i.iif.except.len(), i.oif.only.as_ref().unwrap().len()),
            (1, 1)
        );
        let n = gw(&[], &["192.168.1.0/24"]);
        let e = &n.scopes(DirectionSpec::Egress).unwrap()[0];
        assert_eq!(
            e.from.only.as_ref().unwrap()[0].to_string(),
            "192.168.1.0/24"
        );
        assert_eq!(e.to.except[0].to_string(), "192.168.1.0/24");
        let l = n.scopes(DirectionSpec::Local).unwrap();
        assert!(
            l[0].to
                .only
                .as_ref()
                .unwrap()
                .iter()
                .any(|n| n.to_string() == "224.0.0.0/4")
        );
        assert!(
            gw(&[], &[])
                .scopes(DirectionSpec::Egress)
                .unwrap_err()
                .to_string()
                .contains("--lan-interface")
        );
        let wan = Role {
            wan_interfaces: vec![Interface {
                name: "eth0".into(),
                wildcard: false,
            }],
            ..gw(&["br0"], &[])
        };
        let e = &wan.scopes(DirectionSpec::Egress).unwrap()[0];
        assert_eq!(
            (
                e.oif.only.as_ref().unwrap()[0].name.as_str(),
                e.oif.except.len()
            ),
            ("eth0", 0)
        );
    }
}
