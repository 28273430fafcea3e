// strs.cc - std::string work: the calls into libstdc++ and libc go through the PLT.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static volatile unsigned long sink;

namespace text {
__attribute__((noinline)) std::string join(const std::vector<std::string> &parts)
{
	std::string out;
	for (const std::string &p : parts)
		out += p;
	return out;
}

__attribute__((noinline)) unsigned long scan(const std::string &s, long n)
{
	unsigned long h = 0;
	for (long i = 0; i < n; i++)
		h += std::strlen(s.c_str()) + (std::memcmp(s.data(), "alpha", 5) == 0);
	return h;
}
} // namespace text

int main(int argc, char **argv)
{
	long n = argc > 1 ? std::atol(argv[1]) : 200000;
	std::vector<std::string> parts = { "alpha", "beta-gamma-delta-epsilon-zeta", "eta", "theta-iota-kappa" };
	for (long k = 0; k < n; k++) {
		std::string s = text::join(parts);
		sink += s.size() + text::scan(s, 8);
		if (s.compare(0, 5, "alpha") == 0)
			sink += std::string(s, 3, 20).find("gamma");
	}
	return 0;
}
