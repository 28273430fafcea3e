// names.rs - a Rust workload: generics, closures, trait objects, Vec and String.
use std::collections::HashMap;

trait Shape {
    fn area(&self, n: u64) -> u64;
}
struct Square;
impl Shape for Square {
    #[inline(never)]
    fn area(&self, n: u64) -> u64 {
        (0..n).fold(0u64, |a, i| a.wrapping_add(i * i))
    }
}

#[inline(never)]
fn words(n: usize) -> usize {
    let mut m: HashMap<String, usize> = HashMap::new();
    for i in 0..n {
        *m.entry(format!("w{}", i % 97)).or_insert(0) += 1;
    }
    m.len()
}

#[inline(never)]
fn sum<T: Copy + Into<u64>>(v: &[T]) -> u64 {
    v.iter().map(|&x| x.into()).sum()
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200000);
    let s: Box<dyn Shape> = Box::new(Square);
    let v: Vec<u32> = (0..1000).collect();
    let mut t = 0u64;
    for _ in 0..20 {
        t = t.wrapping_add(s.area(n * 10));
        t = t.wrapping_add(words(n as usize / 4) as u64);
        t = t.wrapping_add(sum(&v));
    }
    println!("{}", t);
}
