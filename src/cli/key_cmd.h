// `ka key new|show` and `ka secret new`: the operator's tools for the trust
// material (crypto/key_file, crypto/secret_file):
//   ka key new DIR       a new Ed25519 key pair: DIR/ka.key (secret, 0600), DIR/ka.pub (0644)
//   ka key show FILE     the public key line and fingerprint of a .pub or .key file
//   ka secret new FILE   a new shared node secret: 32 random bytes, mode 0600
// Nothing is ever overwritten. Exit status: 0 done, 2 refused (bad input, file
// exists, unsafe mode), 1 failure (I/O).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace ka::cli {

class KeyCommands {
 public:
  // Adds `key` (with `new` and `show`) and `secret` (with `new`) to `app`.
  explicit KeyCommands(CLI::App& app);
  bool parsed() const;
  int Run(bool verbose);

 private:
  int RunKeyNew();
  int RunKeyShow();
  int RunSecretNew();

  CLI::App* key_ = nullptr;
  CLI::App* key_new_ = nullptr;
  CLI::App* key_show_ = nullptr;
  CLI::App* secret_ = nullptr;
  CLI::App* secret_new_ = nullptr;
  std::string path_;
};

}  // namespace ka::cli
