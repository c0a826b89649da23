// A measurement of the machine's fp32 matrix-multiply rate, the yardstick
// the trainer benchmark reports its GFLOP/s against.
#ifndef PARZEN_WORKER_MNIST_CPU_PEAK_H_
#define PARZEN_WORKER_MNIST_CPU_PEAK_H_

#include "worker/mnist/network.h"

namespace parzen::mnist {

// GFLOP/s of oneDNN's fp32 matmul on 1024x1024 matrices for about `seconds`
// with the current OpenMP thread count. 0 if oneDNN fails.
double MeasureFp32MatmulGflops(double seconds);

// Milliseconds per call of the network's conv2 alone (32->64 channels, 3x3,
// 26x26, batch 64, forward training), in fp32 or bf16, oneDNN choosing the
// layouts: isolates how fast this CPU's bf16 kernels are. 0 if oneDNN fails.
double MeasureConv2Ms(bool bf16, int iterations);

// GFLOP/s of one core issuing only independent 512-bit fp32 FMAs
// (vfmadd231ps) or bf16 dot products (vdpbf16ps, 2 multiply-adds per fp32
// lane) for about `seconds`: the ceiling each precision has on this CPU,
// whatever the kernels. 0 if the CPU lacks the instruction.
double MeasureCoreFmaGflops(bool bf16, double seconds);

// The precision `--precision auto` means: bf16 only where the CPU has it
// natively and its instruction ceiling is at least 1.5 times fp32's
// (measured in about 40 ms). Some CPUs with AVX512-BF16 issue bf16 dot
// products at half the fp32 FMA rate, where bf16 training is slower.
Precision AutoPrecision();

}  // namespace parzen::mnist

#endif  // PARZEN_WORKER_MNIST_CPU_PEAK_H_
