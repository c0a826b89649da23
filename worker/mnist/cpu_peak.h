// A measurement of the machine's fp32 matrix-multiply rate, the yardstick
// the trainer benchmark reports its GFLOP/s against.
#ifndef PARZEN_WORKER_MNIST_CPU_PEAK_H_
#define PARZEN_WORKER_MNIST_CPU_PEAK_H_

namespace parzen::mnist {

// GFLOP/s of oneDNN's fp32 matmul on 1024x1024 matrices for about `seconds`
// with the current OpenMP thread count. 0 if oneDNN fails.
double MeasureFp32MatmulGflops(double seconds);

// Milliseconds per call of the network's conv2 alone (32->64 channels, 3x3,
// 26x26, batch 64, forward training), in fp32 or bf16, oneDNN choosing the
// layouts: isolates how fast this CPU's bf16 kernels are. 0 if oneDNN fails.
double MeasureConv2Ms(bool bf16, int iterations);

}  // namespace parzen::mnist

#endif  // PARZEN_WORKER_MNIST_CPU_PEAK_H_
