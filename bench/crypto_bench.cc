// crypto_bench: the per-frame cryptography of the data plane, side by side
// (Google Benchmark). One 256 KiB frame (the default chunk) per iteration:
// AES-256-GCM and ChaCha20-Poly1305 seal and open with OpenSSL's EVP (what ka
// uses, crypto/aead.h) and with libsodium 1.0.18; the hashes a session may add
// (SHA-256 with OpenSSL for --digest sha256 and --sign-key, BLAKE2b-256 with
// libsodium, the version 1 default). Bytes/s are payload bytes.
//   build/ka_crypto_bench [--benchmark_repetitions=3]
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <vector>

#include "crypto/aead.h"
#include "crypto/sha256.h"

namespace {

constexpr size_t kFrame = 256 * 1024;

struct Frame {
  std::vector<uint8_t> plain = std::vector<uint8_t>(kFrame, 0x5a), out = std::vector<uint8_t>(kFrame);
  uint8_t key[32] = {1}, nonce[12] = {2}, ad[32] = {3}, tag[16] = {};
};

void OpenSslSeal(benchmark::State& st, ka::crypto::Cipher c) {
  Frame f;
  auto a = ka::crypto::Aead::Create(c, f.key);
  for (auto _ : st) {
    ++f.nonce[0];
    (*a)->Seal(f.nonce, f.ad, sizeof f.ad, f.plain.data(), kFrame, f.out.data(), f.tag);
    benchmark::DoNotOptimize(f.tag);
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * kFrame));
}

void OpenSslOpen(benchmark::State& st, ka::crypto::Cipher c) {
  Frame f;
  auto a = ka::crypto::Aead::Create(c, f.key);
  std::vector<uint8_t> sealed(kFrame);
  (*a)->Seal(f.nonce, f.ad, sizeof f.ad, f.plain.data(), kFrame, sealed.data(), f.tag);
  for (auto _ : st) {
    bool ok = (*a)->Open(f.nonce, f.ad, sizeof f.ad, sealed.data(), kFrame, f.out.data(), f.tag);
    benchmark::DoNotOptimize(ok);
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * kFrame));
}

void SodiumAesSeal(benchmark::State& st) {
  Frame f;
  if (!crypto_aead_aes256gcm_is_available()) return st.SkipWithError("no AES-NI");
  unsigned long long n = 0;
  for (auto _ : st) {
    ++f.nonce[0];
    crypto_aead_aes256gcm_encrypt_detached(f.out.data(), f.tag, &n, f.plain.data(), kFrame, f.ad, sizeof f.ad,
                                           nullptr, f.nonce, f.key);
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * kFrame));
}

void SodiumChaChaSeal(benchmark::State& st) {
  Frame f;
  unsigned long long n = 0;
  for (auto _ : st) {
    ++f.nonce[0];
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(f.out.data(), f.tag, &n, f.plain.data(), kFrame, f.ad,
                                                       sizeof f.ad, nullptr, f.nonce, f.key);
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * kFrame));
}

void Sha256OpenSsl(benchmark::State& st) {
  Frame f;
  ka::crypto::Sha256 h;
  for (auto _ : st) h.Update(f.plain.data(), kFrame);
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * kFrame));
}

void Blake2bSodium(benchmark::State& st) {
  Frame f;
  crypto_generichash_state s;
  crypto_generichash_init(&s, nullptr, 0, 32);
  for (auto _ : st) crypto_generichash_update(&s, f.plain.data(), kFrame);
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * kFrame));
}

BENCHMARK_CAPTURE(OpenSslSeal, aes256gcm, ka::crypto::Cipher::kAes256Gcm);
BENCHMARK_CAPTURE(OpenSslOpen, aes256gcm, ka::crypto::Cipher::kAes256Gcm);
BENCHMARK(SodiumAesSeal);
BENCHMARK_CAPTURE(OpenSslSeal, chacha20poly1305, ka::crypto::Cipher::kChaCha20Poly1305);
BENCHMARK_CAPTURE(OpenSslOpen, chacha20poly1305, ka::crypto::Cipher::kChaCha20Poly1305);
BENCHMARK(SodiumChaChaSeal);
BENCHMARK(Sha256OpenSsl);
BENCHMARK(Blake2bSodium);

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
