//! Generator of large, realistic MMS captures for benchmarks and tests.
