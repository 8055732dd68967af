fn main() {
    identity_wizard::run();
}
