// An empty program linked with one layer's whole archive and only the
// libraries that layer declares (src/CMakeLists.txt, "link probes"): a call
// from one layer into a layer it does not link leaves an undefined symbol,
// and the build fails here.
int main() { return 0; }
