//! The fleet's inventory as AWS IoT's registry knows it: every thing's thing type
//! (ListThings) and thing groups (ListThingGroups, then ListThingsInThingGroup per group).
//! Triage compares a thing with the things of its group or type ([`crate::analysis::peers`]);
//! without the inventory it only has name families and the fleet.

use std::collections::BTreeMap;

use super::client::{DefenderSource, PAGE};
use crate::sources::aws::failure;
use crate::{Error, Result};

/// Most thing groups read in one inventory (the rest are named in a warning).
pub const MAX_GROUPS: usize = 1_000;

/// AWS IoT's limit on a thing or group name; longer names from an endpoint are dropped.
const MAX_NAME: usize = 128;

/// What the registry says of each thing.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Inventory {
    /// Every thing with its thing type (`None`: it has none).
    pub types: Vec<(String, Option<String>)>,
    /// Every thing's groups `(name, arn)`, an empty list for a thing in none.
    pub groups: BTreeMap<String, Vec<(String, Option<String>)>>,
    /// What was left out, said plainly.
    pub warnings: Vec<String>,
}

fn name_ok(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME
}

impl DefenderSource {
    /// Reads the inventory: ListThings (10 TPS), ListThingGroups, and each group's things.
    pub async fn inventory(&self) -> Result<Inventory> {
        let mut inv = Inventory::default();
        let mut dropped = 0usize;
        self.paginate("ListThings", 10, async |token| {
            let page = self
                .client
                .list_things()
                .set_next_token(token)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| Error::Source(failure("ListThings", &e)))?;
            for t in page.things() {
                match t.thing_name() {
                    Some(name) if name_ok(name) => inv.types.push((
                        name.to_string(),
                        t.thing_type_name()
                            .filter(|n| name_ok(n))
                            .map(str::to_string),
                    )),
                    _ => dropped += 1,
                }
            }
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        inv.types.sort();
        inv.types.dedup_by(|a, b| a.0 == b.0);
        for (thing, _) in &inv.types {
            inv.groups.insert(thing.clone(), Vec::new());
        }
        let mut groups: Vec<(String, Option<String>)> = Vec::new();
        self.paginate("ListThingGroups", 10, async |token| {
            let page = self
                .client
                .list_thing_groups()
                .set_next_token(token)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| Error::Source(failure("ListThingGroups", &e)))?;
            groups.extend(
                page.thing_groups()
                    .iter()
                    .filter_map(|g| Some((g.group_name()?, g.group_arn())))
                    .filter(|(n, _)| name_ok(n))
                    .map(|(n, a)| (n.to_string(), a.map(str::to_string))),
            );
            Ok(page.next_token().map(str::to_string))
        })
        .await?;
        groups.sort();
        groups.dedup();
        if groups.len() > MAX_GROUPS {
            inv.warnings.push(format!(
                "{} thing groups: the first {MAX_GROUPS} by name were read for peer groups",
                groups.len()
            ));
            groups.truncate(MAX_GROUPS);
        }
        for (group, arn) in &groups {
            self.paginate("ListThingsInThingGroup", 10, async |token| {
                let page = self
                    .client
                    .list_things_in_thing_group()
                    .thing_group_name(group)
                    .recursive(false)
                    .set_next_token(token)
                    .max_results(PAGE)
                    .send()
                    .await
                    .map_err(|e| {
                        Error::Source(failure(&format!("ListThingsInThingGroup {group}"), &e))
                    })?;
                for thing in page.things() {
                    // Only things the registry listed: a group cannot add things.
                    if let Some(g) = inv.groups.get_mut(thing.as_str()) {
                        g.push((group.clone(), arn.clone()));
                    }
                }
                Ok(page.next_token().map(str::to_string))
            })
            .await?;
        }
        if dropped > 0 {
            inv.warnings.push(format!(
                "{dropped} things without a valid name (1 to {MAX_NAME} bytes) left out"
            ));
        }
        Ok(inv)
    }
}
