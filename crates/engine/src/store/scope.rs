//! Things' accounts in the cache: which stored keys a name stands for, and giving the things of
//! unknown account an account (see [`crate::model::scope`] for the keys).

use rusqlite::{params, TransactionBehavior};

use super::{Store, StoreError};
use crate::model::scope::{Scope, SEP};

/// Every table that keys rows by a thing's key, with its column: rewritten together when
/// things of unknown account are given one. (`violation` and `series` hold the thing's id.)
const THING_COLUMNS: &[(&str, &str)] = &[
    ("thing", "name"),
    ("thing_group", "thing"),
    ("thing_type", "thing"),
    ("thing_principal", "thing"),
    ("screen_reason", "thing"),
    ("mitigation_execution", "thing"),
];

/// SQL matching the keys of name `?1`: the bare name, or a scoped key ending in U+001F and
/// the name (no name holds U+001F, so that is exactly its scoped keys).
fn keys_of(col: &str) -> String {
    format!(
        "({col} = ?1 OR (length({col}) > length(?1) + 1 AND substr({col}, -length(?1)) = ?1
                          AND substr({col}, -length(?1) - 1, 1) = char(31)))"
    )
}

impl Store {
    /// The stored keys of things named `name`, in every account the cache knows it in (things
    /// known only by their groups, type, a screen or a case count too), sorted.
    pub fn thing_keys(&self, name: &str) -> Result<Vec<String>, StoreError> {
        let mut parts: Vec<String> = THING_COLUMNS
            .iter()
            .filter(|(t, _)| *t != "mitigation_execution")
            .map(|(t, c)| format!("SELECT {c} FROM {t} WHERE {}", keys_of(c)))
            .collect();
        parts.push(format!(
            "SELECT substr(subject, 7) FROM case_event WHERE subject LIKE 'thing:%' AND {}",
            keys_of("substr(subject, 7)")
        ));
        let sql = format!(
            "SELECT DISTINCT * FROM ({}) ORDER BY 1",
            parts.join(" UNION ")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([name], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether any thing's account is known.
    pub fn has_scoped_things(&self) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM thing WHERE instr(name, char(31)) > 0)")?
            .query_row([], |r| r.get(0))?)
    }

    /// Gives every thing of unknown account (or only `only`, names) the account and region of
    /// `scope`, in one transaction across every table that keys by thing, with the findings of
    /// unknown account. A thing already known in that scope under the same name is refused
    /// (its history would have to be merged): nothing changes then. The action log is
    /// append-only and keeps the names it was written with; a thing's actions are found by its
    /// name and the account the plan ran in. Returns how many things were given the account.
    pub fn assign_unknown(&mut self, scope: &Scope) -> Result<u64, StoreError> {
        self.assign(scope, None)
    }

    /// [`Store::assign_unknown`] for the named things only.
    pub fn assign_things(&mut self, scope: &Scope, names: &[String]) -> Result<u64, StoreError> {
        self.assign(scope, Some(names))
    }

    fn assign(&mut self, scope: &Scope, only: Option<&[String]>) -> Result<u64, StoreError> {
        let Some(account) = &scope.account else {
            return Err(StoreError::Conflict(
                "an account is needed to assign things to".into(),
            ));
        };
        let prefix = format!(
            "{account}{SEP}{}{SEP}",
            scope.region.as_deref().unwrap_or("")
        );
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS assign_name(name TEXT PRIMARY KEY);
             DELETE FROM assign_name;",
        )?;
        match only {
            Some(names) => {
                for n in names {
                    tx.prepare_cached("INSERT OR IGNORE INTO assign_name(name) VALUES (?1)")?
                        .execute([n])?;
                }
            }
            None => {
                for (t, c) in THING_COLUMNS {
                    tx.execute(
                        &format!(
                            "INSERT OR IGNORE INTO assign_name(name)
                             SELECT {c} FROM {t} WHERE {c} IS NOT NULL AND instr({c}, char(31)) = 0"
                        ),
                        [],
                    )?;
                }
                tx.execute(
                    "INSERT OR IGNORE INTO assign_name(name)
                     SELECT substr(subject, 7) FROM case_event
                     WHERE subject LIKE 'thing:%' AND instr(subject, char(31)) = 0",
                    [],
                )?;
            }
        }
        let clash: Option<String> = tx
            .query_row(
                "SELECT a.name FROM assign_name a JOIN thing t ON t.name = ?1 || a.name LIMIT 1",
                [&prefix],
                |r| r.get(0),
            )
            .ok();
        if let Some(name) = clash {
            return Err(StoreError::Conflict(format!(
                "{name:?} is already a thing of {scope}: its history cannot be merged with the unknown account's"
            )));
        }
        let n: i64 = tx.query_row(
            "SELECT count(*) FROM assign_name a WHERE EXISTS (SELECT 1 FROM thing t WHERE t.name = a.name)
                OR EXISTS (SELECT 1 FROM thing_type y WHERE y.thing = a.name)
                OR EXISTS (SELECT 1 FROM thing_group g WHERE g.thing = a.name)",
            [],
            |r| r.get(0),
        )?;
        for (t, c) in THING_COLUMNS {
            tx.execute(
                &format!(
                    "UPDATE OR REPLACE {t} SET {c} = ?1 || {c} WHERE {c} IN (SELECT name FROM assign_name)"
                ),
                [&prefix],
            )?;
        }
        tx.execute(
            "UPDATE mitigation_execution SET target = ?1 || target
             WHERE finding_id IS NULL AND violation_id IS NULL
               AND target IN (SELECT name FROM assign_name)",
            [&prefix],
        )?;
        tx.execute(
            "UPDATE case_event SET subject = 'thing:' || ?1 || substr(subject, 7)
             WHERE subject LIKE 'thing:%' AND substr(subject, 7) IN (SELECT name FROM assign_name)",
            [&prefix],
        )?;
        if only.is_none() {
            tx.execute(
                "UPDATE finding SET account = ?1, region = ?2 WHERE account IS NULL",
                params![account, scope.region],
            )?;
        }
        tx.execute("DELETE FROM assign_name", [])?;
        tx.commit()?;
        self.ids = Default::default();
        Ok(n as u64)
    }
}

/// The stored key of the thing an analyst names: a full key (what the app hands back) as it
/// is; a name — within an account (and region) when the input says so, a key whose region is
/// empty meaning any — to the one thing of that name. A name that is a thing of several
/// accounts is refused, naming them; a name the cache does not know is returned as given
/// (the caller says it is unknown).
pub fn resolve_thing(store: &Store, thing: &str) -> crate::Result<String> {
    use crate::model::scope::ThingKey;
    let asked = ThingKey::parse(thing);
    let keys = store.thing_keys(asked.name)?;
    let matching: Vec<&String> = keys
        .iter()
        .filter(|k| {
            let k = ThingKey::parse(k);
            asked.account.is_none()
                || (k.account == asked.account
                    && (asked.region.is_none() || k.region == asked.region))
        })
        .collect();
    match matching.as_slice() {
        [] => Ok(thing.to_string()),
        [one] => Ok((*one).clone()),
        several if several.iter().any(|k| k.as_str() == thing) => Ok(thing.to_string()),
        several => {
            let scopes: Vec<String> = several
                .iter()
                .map(|k| ThingKey::parse(k).scope().to_string())
                .collect();
            Err(crate::Error::InvalidInput(format!(
                "{:?} is a thing of {} scopes ({}): say which with --account (and --thing-region), or open it from the fleet list",
                asked.name,
                several.len(),
                scopes.join("; ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::scope::Scope;
    use crate::store::Store;

    /// A device cannot name itself into another account's key: a name holding the key's
    /// separator is refused, its file's other records kept, and no thing of that account
    /// appears; a file the analyst says is of an account lands there.
    #[test]
    fn a_device_cannot_speak_for_another_accounts_thing() {
        let mut store = Store::open_in_memory().unwrap();
        // Two records (Firehose delivers them run together): the hostile one costs only itself.
        let doc = "{\"version\":\"1.0\",\"metrics\":[\
            {\"name\":\"aws:all-bytes-out\",\"thing\":\"111111111111\\u001fus-east-1\\u001fvictim\",\
             \"value\":{\"count\":1},\"version\":1,\"timestamp\":1717430700000}]}\n\
            {\"version\":\"1.0\",\"metrics\":[\
            {\"name\":\"aws:all-bytes-out\",\"thing\":\"cam-1\",\
             \"value\":{\"count\":2},\"version\":1,\"timestamp\":1717430700000}]}";
        let report =
            crate::ingest::ingest_bytes(&mut store, "m.json", doc.as_bytes(), &Default::default());
        assert_eq!(report.rejected_records_total, 1, "{report:?}");
        assert!(!store.has_scoped_things().unwrap());
        assert!(store.thing_keys("victim").unwrap().is_empty());
        assert_eq!(store.thing_keys("cam-1").unwrap(), ["cam-1"]);

        let scope = Scope::new(Some("222222222222"), Some("eu-west-1")).unwrap();
        let ctx = crate::model::parse::Context {
            scope: scope.clone(),
            ..Default::default()
        };
        crate::ingest::ingest_bytes(&mut store, "m.json", doc.as_bytes(), &ctx);
        let mut want = vec!["cam-1".to_string(), scope.key("cam-1")];
        want.sort();
        assert_eq!(
            store.thing_keys("cam-1").unwrap(),
            want,
            "two things: one per account"
        );
    }
}
