// cxx.cc - a C++ workload with the kinds of names that need demangling and
// tidying: namespaces, classes, templates, operator(), lambdas and the
// anonymous namespace.  Usage: cxx ITERATIONS
#include <cstdlib>

static volatile unsigned long sink;

namespace shapes {
template <typename T> struct Area {
	__attribute__((noinline)) T operator()(T n) const
	{
		for (T i = 0; i < n; i++)
			sink += static_cast<unsigned long>(i * i);
		return n;
	}
};

class Circle {
public:
	__attribute__((noinline)) long draw(long n) { return Area<long>()(n) + 1; }
};
} // namespace shapes

namespace {
__attribute__((noinline)) long hidden(long n)
{
	shapes::Circle c;
	return c.draw(n);
}
} // namespace

int main(int argc, char **argv)
{
	long n = argc > 1 ? std::atol(argv[1]) : 1000000;
	for (int k = 0; k < 20; k++)
		hidden(n);
	return 0;
}
