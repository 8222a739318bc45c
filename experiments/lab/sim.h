#pragma once
// `kairo-lab sim`: runs the produce-path simulator (tuner/sim/simulator.h) for one load and storage
// latency under the static profiles and/or auto, and prints throughput, ack latency and batching
// side by side; optionally auto's decisions as CSV (--trace) and everything as JSON (--json).
// Simulated time only: deterministic for a given --seed, no broker, no disk.
namespace lab {

int sim_main(int argc, const char* const* argv);

}  // namespace lab
