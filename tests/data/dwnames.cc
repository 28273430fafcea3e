// dwnames.cc - a C++ workload for the names of --call-graph dwarf chains:
// -O2 -g, std::sort with a lambda, a class template and std::vector, where
// most of the library code is inlined.  Usage: dwnames-cxx ITERATIONS
#include <algorithm>
#include <cstdlib>
#include <vector>

namespace shapes {
template <typename T> struct Poly {
	std::vector<T> pts;
	T area() const
	{
		T s = 0;
		for (size_t i = 0; i + 1 < pts.size(); i++)
			s += pts[i] * pts[i + 1] - pts[i + 1] * pts[i] / 3;
		return s;
	}
};
}

static volatile long sink;

__attribute__((noinline)) static void
sort_round(std::vector<long> &v, long k)
{
	for (size_t i = 0; i < v.size(); i++)
		v[i] = (long)((i * 2654435761u + (unsigned long)k) % 100003);
	std::sort(v.begin(), v.end(), [](long a, long b) { return (a % 1000) < (b % 1000); });
	sink += v[0];
}

__attribute__((noinline)) static long
area_round(const shapes::Poly<long> &p)
{
	return p.area();
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? std::atol(argv[1]) : 200;
	std::vector<long> v(4096);
	shapes::Poly<long> p;

	for (long i = 0; i < 20000; i++)
		p.pts.push_back(i * 31 % 977);
	for (long k = 0; k < n; k++) {
		sort_round(v, k);
		sink += area_round(p);
	}
	return 0;
}
