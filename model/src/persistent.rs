//! Ordered persistent collections for the model's state: [`PMap`] and [`PSet`] keep `BTreeMap`'s
//! ordering and comparison (iteration in key order, `Eq`/`Ord`/`Debug` over the entries), but a
//! clone is O(1) and a change copies only the path to what it touches (a red-black tree with
//! shared nodes, from `rpds`). The engine copies the state for every request and every branch;
//! with these, that copy costs nothing until a secret is changed, and changing one version of a
//! secret copies that version and O(log n) tree nodes, not the secret or the model.

use rpds::RedBlackTreeMapSync;
use std::borrow::Borrow;
use std::fmt;

/// An ordered map with structural sharing: `BTreeMap`'s API where the model needs it.
#[derive(Clone, Eq, PartialOrd, Ord)]
pub struct PMap<K: Ord, V>(RedBlackTreeMapSync<K, V>);

/// Over the entries, like the equality.
impl<K: Ord + std::hash::Hash, V: std::hash::Hash> std::hash::Hash for PMap<K, V> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

/// Entry by entry in key order; an entry both maps share (the same node) is equal without
/// comparing it, so two states that differ in one secret or version compare in O(n) pointer
/// checks plus that one entry.
impl<K: Ord, V: PartialEq> PartialEq for PMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other)
            || self.len() == other.len()
                && self
                    .iter()
                    .zip(other.iter())
                    .all(|((ka, va), (kb, vb))| std::ptr::eq(va, vb) || ka == kb && va == vb)
    }
}

impl<K: Ord, V> Default for PMap<K, V> {
    fn default() -> Self {
        PMap(RedBlackTreeMapSync::new_sync())
    }
}

impl<K: Ord, V> PMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.0.size()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get<Q: ?Sized + Ord>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.0.get(key)
    }

    pub fn contains_key<Q: ?Sized + Ord>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.0.contains_key(key)
    }

    /// The stored key and its value.
    pub fn get_key_value<Q: ?Sized + Ord>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        self.0.get_key_value(key)
    }

    /// The entry with the smallest key.
    pub fn first(&self) -> Option<(&K, &V)> {
        self.0.first()
    }

    /// Inserts or replaces the value at `key`.
    pub fn insert(&mut self, key: K, value: V) {
        self.0.insert_mut(key, value);
    }

    /// Removes `key`; whether it was there.
    pub fn remove<Q: ?Sized + Ord>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.0.remove_mut(key)
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter()
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.keys()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.values()
    }

    /// Whether `self` and `other` share the same tree (equal without comparing entries).
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.0.ptr_eq(&other.0)
    }
}

impl<K: Ord + Clone, V: Clone> PMap<K, V> {
    /// The value at `key` for changing, copying it (and the path to it) if it is shared.
    pub fn get_mut<Q: ?Sized + Ord>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        // rpds copies the path while it searches, so look first: a miss copies nothing.
        if !self.0.contains_key(key) {
            return None;
        }
        self.0.get_mut(key)
    }

    /// [`PMap::get_mut`] for a key the caller just saw present: skips the look-up that spares a
    /// miss from copying the path (on a miss the path is copied all the same).
    pub fn get_mut_present<Q: ?Sized + Ord>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.0.get_mut(key)
    }

    /// Applies `f` to every value (copying each one that is shared).
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut V)) {
        let keys: Vec<K> = self.0.keys().cloned().collect();
        for k in keys {
            if let Some(v) = self.0.get_mut(&k) {
                f(v);
            }
        }
    }
}

impl<K: Ord, Q: ?Sized + Ord, V> std::ops::Index<&Q> for PMap<K, V>
where
    K: Borrow<Q>,
{
    type Output = V;
    fn index(&self, key: &Q) -> &V {
        self.0.get(key).expect("no entry found for key")
    }
}

impl<'a, K: Ord, V> IntoIterator for &'a PMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = rpds::map::red_black_tree_map::Iter<'a, K, V, archery::ArcTK>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<K: Ord, V> Extend<(K, V)> for PMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for PMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = PMap::new();
        m.extend(iter);
        m
    }
}

impl<K: Ord + fmt::Debug, V: fmt::Debug> fmt::Debug for PMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

/// An ordered set with structural sharing (a [`PMap`] to `()`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PSet<T: Ord>(PMap<T, ()>);

impl<T: Ord> Default for PSet<T> {
    fn default() -> Self {
        PSet(PMap::new())
    }
}

impl<T: Ord> PSet<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains<Q: ?Sized + Ord>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.0.contains_key(value)
    }

    pub fn insert(&mut self, value: T) {
        self.0.insert(value, ());
    }

    /// Removes `value`; whether it was there.
    pub fn remove<Q: ?Sized + Ord>(&mut self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.0.remove(value)
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.keys()
    }

    /// The smallest element.
    pub fn first(&self) -> Option<&T> {
        self.0.first().map(|(k, _)| k)
    }
}

impl<T: Ord + fmt::Debug> fmt::Debug for PSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_to_a_copy_leaves_the_original_alone() {
        let mut a: PMap<String, Vec<u32>> =
            [("x".to_string(), vec![1]), ("y".to_string(), vec![2])].into_iter().collect();
        let mut b = a.clone();
        assert!(a.ptr_eq(&b));
        b.get_mut("x").unwrap().push(9);
        b.insert("z".into(), vec![3]);
        assert!(b.remove("y"));
        assert_eq!(format!("{a:?}"), r#"{"x": [1], "y": [2]}"#);
        assert_eq!(format!("{b:?}"), r#"{"x": [1, 9], "z": [3]}"#);
        assert!(a.get_mut("missing").is_none());
        a.for_each_mut(|v| v.push(0));
        assert_eq!(a.values().cloned().collect::<Vec<_>>(), vec![vec![1, 0], vec![2, 0]]);
    }

    #[test]
    fn order_and_comparison_are_by_entries() {
        let a: PMap<u32, u32> = [(2, 0), (1, 0)].into_iter().collect();
        let b: PMap<u32, u32> = [(1, 0), (2, 0)].into_iter().collect();
        assert_eq!(a, b);
        assert_eq!(a.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
        let mut s = PSet::new();
        s.insert("b");
        s.insert("a");
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), vec!["a", "b"]);
        assert!(s.contains("a") && !s.contains("c"));
    }
}
