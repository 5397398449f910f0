// fib: the first n Fibonacci numbers (Go, handler, warm: built once, cached by content).
package main

import (
	"context"
	"fmt"
)

type Input struct {
	N int `json:"n"`
}

type Output struct {
	Numbers []uint64 `json:"numbers"`
}

type badInput struct{ msg string }

func (e badInput) Error() string     { return e.msg }
func (e badInput) ErrorCode() string { return "INVALID_INPUT" }

func Handler(ctx context.Context, in Input, fctx *FnContext) (Output, error) {
	if in.N < 0 || in.N > 93 {
		return Output{}, badInput{fmt.Sprintf("n must be between 0 and 93, got %d", in.N)}
	}
	fctx.Log.Info("computing", map[string]int{"n": in.N})
	nums := make([]uint64, 0, in.N)
	var a, b uint64 = 0, 1
	for i := 0; i < in.N; i++ {
		nums = append(nums, a)
		a, b = b, a+b
	}
	return Output{Numbers: nums}, nil
}
