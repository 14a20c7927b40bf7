//! Interface names as a finite dimension.
//!
//! Rules name interfaces exactly (`eth0`) or by prefix (`eth+`). Every name
//! the ruleset or the question mentions gets a class of its own, every prefix
//! gets a class for "other names with this prefix", and one class stands for
//! names nothing mentions. Two names in one class match exactly the same
//! rules, so evaluating classes is exact.

use driftwall_parsers::model::Interface;

/// Class of the empty name: the packet has no such interface (no input
/// interface in OUTPUT, no output interface in INPUT).
pub const NONE: u128 = 0;
/// Class of `lo`, always present: requirements that name no interface exclude it.
pub const LOOPBACK: u128 = 1;

#[derive(Debug, Clone)]
enum Class {
    Exact(String),
    /// Names starting with the prefix that are neither listed nor under a longer listed prefix.
    Prefix(String),
    Other,
}

#[derive(Debug, Clone)]
pub struct Interfaces {
    classes: Vec<Class>,
}

impl Interfaces {
    /// Builds the classes for every name and prefix given.
    pub fn new<'a>(mentioned: impl IntoIterator<Item = &'a Interface>) -> Self {
        let mut exact: Vec<String> = vec![String::new(), "lo".to_string()];
        let mut prefixes: Vec<String> = Vec::new();
        for i in mentioned {
            let list = if i.wildcard {
                &mut prefixes
            } else {
                &mut exact
            };
            if !list.contains(&i.name) {
                list.push(i.name.clone());
            }
        }
        let mut classes: Vec<Class> = exact.into_iter().map(Class::Exact).collect();
        classes.extend(
            prefixes
                .into_iter()
                .filter(|p| !p.is_empty())
                .map(Class::Prefix),
        );
        classes.push(Class::Other);
        Interfaces { classes }
    }

    pub fn count(&self) -> u128 {
        self.classes.len() as u128
    }

    /// The classes a rule's interface operand matches.
    pub fn matching(&self, interface: &Interface) -> Vec<u128> {
        (0..self.classes.len())
            .filter(|&i| match &self.classes[i] {
                Class::Exact(n) => interface.matches(n),
                // Names in a prefix class all start with that prefix.
                Class::Prefix(p) => interface.wildcard && p.starts_with(&interface.name),
                // Names in no class start with no listed prefix; `+` (empty prefix) matches them.
                Class::Other => interface.wildcard && interface.name.is_empty(),
            })
            .map(|i| i as u128)
            .collect()
    }

    /// The class of a concrete name.
    pub fn class_of(&self, name: &str) -> u128 {
        if let Some(i) = self
            .classes
            .iter()
            .position(|c| matches!(c, Class::Exact(n) if n == name))
        {
            return i as u128;
        }
        let best = self
            .classes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Class::Prefix(p) if name.starts_with(p.as_str()) => Some((p.len(), i)),
                _ => None,
            })
            .max();
        match best {
            Some((_, i)) => i as u128,
            None => (self.classes.len() - 1) as u128,
        }
    }

    /// A concrete name in the class, for witnesses.
    pub fn example(&self, class: u128) -> String {
        let taken = |n: &str| self.class_of(n) != class;
        match self.classes.get(class as usize) {
            Some(Class::Exact(n)) => n.clone(),
            Some(Class::Prefix(p)) => (0..100)
                .map(|i| format!("{p}{i}"))
                .find(|n| !taken(n))
                .unwrap_or_else(|| format!("{p}*")),
            _ => ["eth0", "ens3", "enp1s0", "wlan0", "if0", "x0"]
                .iter()
                .map(|s| s.to_string())
                .chain((0..100).map(|i| format!("zz{i}")))
                .find(|n| !taken(n))
                .unwrap_or_else(|| "other".into()),
        }
    }
}
