// Package prime decides whether an integer is prime.
//
// IsPrime64 is exact and allocation-free for every uint64: trial division by
// the primes below 128, then, in Montgomery arithmetic, a Miller–Rabin test
// with three bases below 2^32 or a Baillie–PSW test above. Exhaustive
// searches have shown that no composite passes either in its range.
//
// IsPrime accepts any *big.Int. Below 2^64 it uses IsPrime64; beyond, it runs
// math/big's Baillie–PSW test plus Miller–Rabin rounds with bases from
// crypto/rand, and stops between them when its context is done. No composite
// is known to pass Baillie–PSW; a prime always passes. A check of a prime
// takes time growing as about the cube of its length (docs/benchmarks.md),
// so callers should cap the length of the numbers they accept.
package prime
