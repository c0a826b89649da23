// A measurement of the machine's fp32 matrix-multiply rate, the yardstick
// the trainer benchmark reports its GFLOP/s against.
#ifndef PARZEN_WORKER_MNIST_CPU_PEAK_H_
#define PARZEN_WORKER_MNIST_CPU_PEAK_H_

namespace parzen::mnist {

// GFLOP/s of oneDNN's fp32 matmul on 1024x1024 matrices for about `seconds`
// with the current OpenMP thread count. 0 if oneDNN fails.
double MeasureFp32MatmulGflops(double seconds);

}  // namespace parzen::mnist

#endif  // PARZEN_WORKER_MNIST_CPU_PEAK_H_
