//! A secret's versions by id, with an index of which versions hold each staging label, so that
//! "who holds AWSCURRENT" and "how many labels does the secret hold" are look-ups instead of a
//! scan over every version (a secret can hold 100 versions and more).
//!
//! The index is derived data: it is kept in step by every way of changing a version (insert,
//! remove, and the [`VersionMut`] guard that [`Versions::get_mut`] and [`Versions::for_each_mut`]
//! hand out, which re-reads the version's labels when it is dropped), so code that edits
//! `labels` directly, as tests do to build broken states, still gets the answers a scan would
//! give. Equality, ordering and `Debug` look at the versions only, exactly like the map they
//! replace.

use crate::persistent::{PMap, PSet};
use crate::state::Version;
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// Versions by id (in id order) with a label index. Copying is O(1), like [`PMap`].
#[derive(Clone, Default)]
pub struct Versions {
    by_id: PMap<String, Version>,
    /// Label -> the ids of the versions holding it (one, unless a state was edited by hand; a
    /// label no version holds any more keeps an empty set, so moving it copies no key).
    holders: PMap<String, PSet<String>>,
    /// How many (label, version) pairs the index holds.
    attached: usize,
}

impl Versions {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get<Q: ?Sized + Ord>(&self, id: &Q) -> Option<&Version>
    where
        String: Borrow<Q>,
    {
        self.by_id.get(id)
    }

    pub fn contains_key<Q: ?Sized + Ord>(&self, id: &Q) -> bool
    where
        String: Borrow<Q>,
    {
        self.by_id.contains_key(id)
    }

    /// Versions in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Version)> {
        self.by_id.iter()
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.by_id.keys()
    }

    pub fn values(&self) -> impl Iterator<Item = &Version> {
        self.by_id.values()
    }

    /// Whether `self` and `other` share the same tree (equal without comparing versions).
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.by_id.ptr_eq(&other.by_id)
    }

    /// The version holding `label` (the first in id order, should a hand-edited state have
    /// given it to several).
    pub fn holder(&self, label: &str) -> Option<&str> {
        self.holders.get(label).and_then(PSet::first).map(String::as_str)
    }

    /// How many labels are attached across all versions.
    pub fn label_count(&self) -> usize {
        self.attached
    }

    /// The ids of the versions that hold at least one label, in id order.
    pub fn labelled_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.holders.values().flat_map(PSet::iter).map(String::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Inserts or replaces the version at `id`.
    pub fn insert(&mut self, id: String, version: Version) {
        if self.by_id.contains_key(&id) {
            self.forget_labels(&id);
        }
        for l in &version.labels {
            self.index(l, &id);
        }
        self.by_id.insert(id, version);
    }

    /// Removes the version at `id`; whether it was there.
    pub fn remove(&mut self, id: &str) -> bool {
        let removed = self.by_id.remove(id);
        if removed {
            self.forget_labels(id);
        }
        removed
    }

    /// Attaches `label` to version `id` (if it exists), without touching other versions.
    pub fn add_label(&mut self, id: &str, label: &str) {
        if self.by_id.get(id).is_none_or(|v| v.labels.contains(label)) {
            return;
        }
        if let Some(v) = self.by_id.get_mut_present(id) {
            v.labels.insert(label.to_string());
        }
        self.index(label, id);
    }

    /// Removes `label` from version `id`, if it is there.
    pub fn remove_label(&mut self, id: &str, label: &str) {
        if !self.by_id.get(id).is_some_and(|v| v.labels.contains(label)) {
            return;
        }
        if let Some(v) = self.by_id.get_mut_present(id) {
            v.labels.remove(label);
        }
        self.unindex(label, id);
    }

    /// The version at `id` for changing (copying it if it is shared); the label index follows
    /// whatever is done to its labels when the guard is dropped.
    pub fn get_mut<Q: ?Sized + Ord>(&mut self, id: &Q) -> Option<VersionMut<'_>>
    where
        String: Borrow<Q>,
    {
        let (key, _) = self.by_id.get_key_value(id)?;
        let key = key.clone();
        Some(VersionMut { versions: self, id: key })
    }

    /// Applies `f` to every version (copying each one that is shared), keeping the index.
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut Version)) {
        let ids: Vec<String> = self.by_id.keys().cloned().collect();
        for id in ids {
            if let Some(mut v) = self.get_mut(&id) {
                f(&mut v);
            }
        }
    }

    /// Records that `id` holds `label` (which it did not).
    fn index(&mut self, label: &str, id: &str) {
        self.attached += 1;
        if self.holders.contains_key(label) {
            if let Some(ids) = self.holders.get_mut_present(label) {
                ids.insert(id.to_string());
            }
        } else {
            let mut ids = PSet::new();
            ids.insert(id.to_string());
            self.holders.insert(label.to_string(), ids);
        }
    }

    /// Records that `id` no longer holds `label`.
    fn unindex(&mut self, label: &str, id: &str) {
        if !self.holders.get(label).is_some_and(|ids| ids.contains(id)) {
            return;
        }
        if let Some(ids) = self.holders.get_mut_present(label) {
            ids.remove(id);
            self.attached -= 1;
        }
    }

    /// Drops every index entry for version `id`.
    fn forget_labels(&mut self, id: &str) {
        let held: Vec<String> =
            self.holders.iter().filter(|(_, ids)| ids.contains(id)).map(|(l, _)| l.clone()).collect();
        for l in held {
            self.unindex(&l, id);
        }
    }

    /// Brings the index in line with the labels version `id` now holds.
    fn reindex(&mut self, id: &str) {
        let Some(v) = self.by_id.get(id) else { return };
        let stale: Vec<String> = self
            .holders
            .iter()
            .filter(|(l, ids)| ids.contains(id) && !v.labels.contains(l.as_str()))
            .map(|(l, _)| l.clone())
            .collect();
        let missing: Vec<String> = v
            .labels
            .iter()
            .filter(|l| !self.holders.get(l.as_str()).is_some_and(|ids| ids.contains(id)))
            .cloned()
            .collect();
        for l in stale {
            self.unindex(&l, id);
        }
        for l in missing {
            self.index(&l, id);
        }
    }
}

/// A version being changed in place; on drop, the label index is brought up to date.
pub struct VersionMut<'v> {
    versions: &'v mut Versions,
    id: String,
}

impl Deref for VersionMut<'_> {
    type Target = Version;
    fn deref(&self) -> &Version {
        &self.versions.by_id[&self.id]
    }
}

impl DerefMut for VersionMut<'_> {
    fn deref_mut(&mut self) -> &mut Version {
        self.versions.by_id.get_mut_present(&self.id).expect("the guard's version exists")
    }
}

impl Drop for VersionMut<'_> {
    fn drop(&mut self) {
        let id = std::mem::take(&mut self.id);
        self.versions.reindex(&id);
    }
}

impl<Q: ?Sized + Ord> std::ops::Index<&Q> for Versions
where
    String: Borrow<Q>,
{
    type Output = Version;
    fn index(&self, id: &Q) -> &Version {
        &self.by_id[id]
    }
}

impl<'a> IntoIterator for &'a Versions {
    type Item = (&'a String, &'a Version);
    type IntoIter = <&'a PMap<String, Version> as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        (&self.by_id).into_iter()
    }
}

impl FromIterator<(String, Version)> for Versions {
    fn from_iter<I: IntoIterator<Item = (String, Version)>>(iter: I) -> Self {
        let mut vs = Versions::new();
        for (id, v) in iter {
            vs.insert(id, v);
        }
        vs
    }
}

// The index is a function of the versions, so comparing the versions compares everything.
impl PartialEq for Versions {
    fn eq(&self, other: &Self) -> bool {
        self.by_id == other.by_id
    }
}

impl Eq for Versions {}

impl PartialOrd for Versions {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Versions {
    fn cmp(&self, other: &Self) -> Ordering {
        self.by_id.cmp(&other.by_id)
    }
}

impl fmt::Debug for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.by_id.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(id: &str, labels: &[&str]) -> Version {
        let mut v = Version::new(id, None, 0, 0);
        v.labels = labels.iter().map(|l| l.to_string()).collect();
        v
    }

    /// What a scan over the versions answers, to compare the index with.
    fn scanned(vs: &Versions, label: &str) -> Option<String> {
        vs.values().find(|v| v.labels.contains(label)).map(|v| v.id.clone())
    }

    #[test]
    fn the_index_follows_every_kind_of_change() {
        let mut vs: Versions = [("b", &["L1"][..]), ("a", &[][..]), ("c", &["L2", "L3"][..])]
            .into_iter()
            .map(|(id, ls)| (id.to_string(), version(id, ls)))
            .collect();
        let check = |vs: &Versions| {
            for l in ["L1", "L2", "L3", "L4"] {
                assert_eq!(vs.holder(l).map(str::to_string), scanned(vs, l), "{l} in {vs:?}");
            }
            assert_eq!(vs.label_count(), vs.values().map(|v| v.labels.len()).sum::<usize>());
            let labelled: Vec<&str> = vs.values().filter(|v| !v.labels.is_empty()).map(|v| v.id.as_str()).collect();
            assert_eq!(vs.labelled_ids(), labelled);
        };
        check(&vs);
        vs.add_label("a", "L1");
        check(&vs);
        assert_eq!(vs.holder("L1"), Some("a"));
        vs.remove_label("a", "L1");
        vs.remove_label("b", "L1");
        check(&vs);
        assert_eq!(vs.holder("L1"), None);
        vs.get_mut("c").unwrap().labels.clear();
        check(&vs);
        vs.get_mut("a").unwrap().labels.insert("L4".into());
        check(&vs);
        vs.for_each_mut(|v| {
            v.labels.insert("L2".into());
        });
        check(&vs);
        assert_eq!(vs.holder("L2"), Some("a"));
        vs.insert("a".into(), version("a", &["L3"]));
        check(&vs);
        assert!(vs.remove("a") && !vs.remove("a"));
        check(&vs);
        vs.add_label("missing", "L1");
        check(&vs);
    }

    #[test]
    fn equality_and_debug_see_only_the_versions() {
        let mut a = Versions::new();
        a.insert("x".into(), version("x", &["L"]));
        let mut b = Versions::new();
        b.insert("x".into(), version("x", &[]));
        b.add_label("x", "L");
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), Ordering::Equal);
        let plain: PMap<String, Version> = [("x".to_string(), version("x", &["L"]))].into_iter().collect();
        assert_eq!(format!("{a:?}"), format!("{plain:?}"));
    }
}
