//! The `keel` executable: see `keel::driver`.

fn main() -> std::process::ExitCode {
    keel::driver::main()
}
