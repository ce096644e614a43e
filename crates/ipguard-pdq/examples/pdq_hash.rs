//! Hashes image files the way `ipguard hash` will, for scripts such as
//! bench/images/robustness.py: one tab-separated line per file,
//! `FILE QUALITY HASH` or, with `--dihedral`, `FILE QUALITY HASH×8` in the
//! reference's dihedral order; `FILE error MESSAGE` for a file that fails.

use std::path::PathBuf;

use rayon::prelude::*;

fn main() {
    let mut dihedral = false;
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        if arg == "--dihedral" {
            dihedral = true;
        } else {
            files.push(PathBuf::from(arg));
        }
    }
    let lines: Vec<String> = files
        .par_iter()
        .map(|file| {
            let name = file.display();
            let hashed = if dihedral {
                ipguard_pdq::dihedral_hashes_file(file).map(|d| {
                    let hashes: Vec<String> = d.all().iter().map(|h| h.to_hex()).collect();
                    format!("{}\t{}", d.quality, hashes.join("\t"))
                })
            } else {
                ipguard_pdq::hash_file(file).map(|r| format!("{}\t{}", r.quality, r.hash))
            };
            match hashed {
                Ok(fields) => format!("{name}\t{fields}"),
                Err(error) => format!("{name}\terror\t{error}"),
            }
        })
        .collect();
    for line in lines {
        println!("{line}");
    }
}
