// dwnames.rs - a Rust workload for the names of --call-graph dwarf chains:
// rustc -O -g, closures, iterator adaptors and std's generic code inlined
// into the program's functions.  Usage: dwnames-rs ITERATIONS
// No std::hint::black_box: it is stable only from Rust 1.66, and Debian 12
// has 1.63.  A volatile read keeps k opaque to the optimizer the same way.

#[inline(never)]
fn churn(v: &mut Vec<u64>, k: u64) -> u64 {
    for (i, x) in v.iter_mut().enumerate() {
        *x = (i as u64).wrapping_mul(2654435761).wrapping_add(k) % 100003;
    }
    v.sort_unstable_by_key(|x| x % 1000);
    v.iter().map(|x| x.wrapping_mul(*x)).filter(|x| x % 3 != 0).fold(0u64, |a, b| a ^ b)
}

#[inline(never)]
fn sum_windows(v: &[u64]) -> u64 {
    v.windows(4).map(|w| w.iter().copied().max().unwrap_or(0)).sum()
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let mut v = vec![0u64; 4096];
    let mut s = 0u64;
    let run = |v: &mut Vec<u64>, k: u64| churn(v, k) ^ sum_windows(v);
    for k in 0..n {
        s ^= run(&mut v, unsafe { std::ptr::read_volatile(&k) });
    }
    println!("{}", s);
}
