fn main() {
    std::process::exit(orderbridge::cli::main());
}
