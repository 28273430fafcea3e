#include <stdlib.h>
static volatile unsigned long sink;
__attribute__((noinline)) void leaf(long n){ for(long i=0;i<n;i++) sink+=i*i; }
__attribute__((noinline)) void mid(long n){ leaf(n); leaf(n/2); }
__attribute__((noinline)) void top(long n){ mid(n); for(long i=0;i<n;i++) sink^=i; }
int main(int c,char**v){ long n=c>1?atol(v[1]):1000000; for(int k=0;k<20;k++) top(n); return 0; }
