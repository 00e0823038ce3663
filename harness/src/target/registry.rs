//! The managed emulators smconform knows, in one table. The CLI's `--target` choices, `setup`,
//! `matrix` (one column per entry, read from `fixtures/divergences/<name>/`) and the catalogue
//! tests all read it: adding an emulator is its file under `target/`, a line here, and its
//! catalogue.

use super::emulator::EmulatorSpec;

/// Every managed emulator, in the order of the matrix's columns.
pub static MANAGED: &[&EmulatorSpec] = &[&super::moto::SPEC, &super::localstack::SPEC, &super::ministack::SPEC];

/// The managed emulator called `name`.
pub fn managed(name: &str) -> Option<&'static EmulatorSpec> {
    MANAGED.iter().copied().find(|s| s.name == name)
}

/// The names of the managed emulators.
pub fn names() -> Vec<&'static str> {
    MANAGED.iter().map(|s| s.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let mut names = names();
        for n in &names {
            assert_eq!(managed(n).map(|s| s.name), Some(*n));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), MANAGED.len());
        assert!(managed("model").is_none());
    }
}
