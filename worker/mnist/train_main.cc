// parzen-train: trains one configuration of the MNIST network from flags
// and prints per-epoch metrics and one result line.
#include <omp.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "worker/mnist/cpu_peak.h"
#include "worker/mnist/dataset.h"
#include "worker/mnist/idx.h"
#include "worker/mnist/trainer.h"

namespace {

struct Flags {
  std::string data_dir = "data/mnist";
  std::string optimizer = "sgd";
  double lr = 0.05;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 0.0;
  double lr_gamma = 1.0;
  int64_t batch_size = 64;
  int64_t epochs = 1;
  int threads = 0;
  uint64_t seed = 1;
  int64_t train_size = 50000;
  int64_t val_size = 10000;
  std::string precision = "fp32";
  std::string split_out;
  parzen::mnist::NetworkShape shape;
};

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "parzen-train: %s\n", std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace parzen::mnist;
  Flags f;
  CLI::App app{"parzen-train: train the MNIST network once"};
  app.add_option("--data-dir", f.data_dir, "directory with the four MNIST IDX files")
      ->capture_default_str();
  app.add_option("--optimizer", f.optimizer, "sgd or adam")
      ->check(CLI::IsMember({"sgd", "adam"}))
      ->capture_default_str();
  app.add_option("--lr", f.lr, "learning rate")->capture_default_str();
  app.add_option("--momentum", f.momentum, "SGD momentum")->capture_default_str();
  app.add_flag("--nesterov", f.nesterov, "Nesterov momentum");
  app.add_option("--weight-decay", f.weight_decay, "L2 weight decay")->capture_default_str();
  app.add_option("--lr-gamma", f.lr_gamma, "learning rate factor after each epoch (StepLR)")
      ->capture_default_str();
  app.add_option("--batch-size", f.batch_size, "mini-batch size")->capture_default_str();
  app.add_option("--epochs", f.epochs, "epochs")->capture_default_str();
  app.add_option("--threads", f.threads, "oneDNN threads (0: all cores)")->capture_default_str();
  app.add_option("--seed", f.seed, "seed for the split, weights, shuffling, dropout")
      ->capture_default_str();
  app.add_option("--train-size", f.train_size, "training images (of 60,000)")->capture_default_str();
  app.add_option("--val-size", f.val_size, "validation images (of 60,000)")->capture_default_str();
  app.add_option("--precision", f.precision,
                 "fp32, bf16 (bf16 convolutions and inner products, fp32 master weights), or "
                 "auto: bf16 where this CPU runs it faster than fp32 (measured at start)")
      ->check(CLI::IsMember({"fp32", "bf16", "auto"}))
      ->capture_default_str();
  app.add_option("--split-out", f.split_out,
                 "write the training, then the validation image indices (of the 60,000), one per "
                 "line: a reference trainer can then use the same images (bench/torch_mnist.py "
                 "--split-file)");
  app.add_option("--conv1-channels", f.shape.conv1_channels)->capture_default_str();
  app.add_option("--conv2-channels", f.shape.conv2_channels)->capture_default_str();
  app.add_option("--fc-units", f.shape.fc_units)->capture_default_str();
  app.add_option("--dropout1", f.shape.dropout1)->capture_default_str();
  app.add_option("--dropout2", f.shape.dropout2)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (f.threads > 0) omp_set_num_threads(f.threads);

  auto train_images = ReadMnistSplit(f.data_dir, "train");
  if (!train_images.ok()) return Fail(train_images.status());
  auto test_images = ReadMnistSplit(f.data_dir, "t10k");
  if (!test_images.ok()) return Fail(test_images.status());
  auto indices = SplitTrainValidationIndices(train_images->count, f.train_size, f.val_size, f.seed);
  if (!indices.ok()) return Fail(indices.status());
  auto split = MakeTrainValidation(*train_images, *indices);
  if (!split.ok()) return Fail(split.status());
  if (!f.split_out.empty()) {
    if (absl::Status written = WriteSplitIndices(*indices, f.split_out); !written.ok()) {
      return Fail(written);
    }
  }
  const Dataset test = MakeDataset(*test_images);

  TrainConfig config;
  config.shape = f.shape;
  const bool bf16 = f.precision == "bf16" ||
                    (f.precision == "auto" && AutoPrecision() == Precision::kBf16);
  config.precision = bf16 ? Precision::kBf16 : Precision::kFp32;
  std::printf("precision %s\n", bf16 ? "bf16" : "fp32");
  config.optimizer.kind = f.optimizer == "adam" ? OptimizerKind::kAdam : OptimizerKind::kSgd;
  config.optimizer.lr = f.lr;
  config.optimizer.momentum = f.optimizer == "sgd" ? f.momentum : 0.0;
  config.optimizer.nesterov = f.nesterov;
  config.optimizer.weight_decay = f.weight_decay;
  config.batch_size = f.batch_size;
  config.epochs = f.epochs;
  config.lr_gamma = f.lr_gamma;
  config.seed = f.seed;

  const bool tty = isatty(fileno(stderr));
  auto on_batch = [tty](const BatchProgress& p) {
    const int64_t done = p.batch, total = p.batches_per_epoch;
    if (!tty || (done % 20 != 0 && done != total)) return true;
    const int width = 40;
    const int filled = static_cast<int>(width * done / total);
    std::fprintf(stderr, "\r[%s%s] %lld/%lld", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<long long>(done),
                 static_cast<long long>(total));
    if (done == total) std::fprintf(stderr, "\r%*s\r", width + 24, "");
    return true;
  };
  auto on_epoch = [](const EpochMetrics& m) {
    std::printf("epoch %lld train_loss=%.4f val_loss=%.4f val_accuracy=%.4f images_per_s=%.0f\n",
                static_cast<long long>(m.epoch), m.train_loss, m.validation_loss,
                m.validation_accuracy, m.train_images_per_s);
    std::fflush(stdout);
    return true;
  };
  auto result = Train(config, split->train, split->validation, on_epoch, on_batch);
  if (!result.ok()) return Fail(result.status());
  auto evaluated = Evaluate(*result->network, test);
  if (!evaluated.ok()) return Fail(evaluated.status());
  const Evaluation& on_test = *evaluated;
  const EpochMetrics& last = result->epochs.back();
  std::printf("result test_accuracy=%.4f val_accuracy=%.4f val_loss=%.4f images_per_s=%.0f\n",
              on_test.accuracy, last.validation_accuracy, last.validation_loss,
              last.train_images_per_s);
  return 0;
}
