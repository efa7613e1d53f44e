package prime_test

import (
	"context"
	"fmt"
	"math/big"

	"github.com/asyncprime/asyncprime/internal/prime"
)

func ExampleIsPrime64() {
	for _, n := range []uint64{1, 2, 49, 561, 1<<61 - 1, 1<<64 - 59, 1<<64 - 1} {
		fmt.Println(n, prime.IsPrime64(n))
	}
	// Output:
	// 1 false
	// 2 true
	// 49 false
	// 561 false
	// 2305843009213693951 true
	// 18446744073709551557 true
	// 18446744073709551615 false
}

func ExampleIsPrime() {
	m127 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))
	psi12, _ := new(big.Int).SetString("318665857834031151167461", 10)
	for _, n := range []*big.Int{m127, psi12, big.NewInt(-7)} {
		isPrime, err := prime.IsPrime(context.Background(), n)
		fmt.Println(n, isPrime, err)
	}
	// Output:
	// 170141183460469231731687303715884105727 true <nil>
	// 318665857834031151167461 false <nil>
	// -7 false <nil>
}
