#pragma once
// `kairo-lab experiment run experiments/<name>.json [--quick] [--out DIR]`: runs a declared experiment
// (server settings x storage classes x load, or phased runs), each point against a fresh
// `kairo serve` (own data directory and loopback ports), and writes CSV, JSON, time series and
// plots under experiments/results/<name>/<timestamp>/. See experiments/README.md.
namespace lab {

int experiment_main(int argc, const char* const* argv);

}  // namespace lab
