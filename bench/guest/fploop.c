/* CPU-bound floating-point workload (needs --fpu): numerical integration,
 * a small matrix multiply and a Newton square root, in double precision.
 * Prints the results scaled to integers so runs can be compared. */
#include "disco.h"

#define N 48

static double a[N][N], b[N][N], c[N][N];

static double integrate(int steps)
{
	double h = 1.0 / steps, s = 0.0;
	for (int i = 0; i < steps; i++) {
		double x = (i + 0.5) * h;
		s += 4.0 / (1.0 + x * x);
	}
	return s * h;
}

static double matmul(void)
{
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			a[i][j] = (i + 1) * 0.5 + j * 0.25;
			b[i][j] = (i == j) ? 2.0 : 1.0 / (1 + i + j);
		}
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			double s = 0.0;
			for (int k = 0; k < N; k++)
				s += a[i][k] * b[k][j];
			c[i][j] = s;
		}
	double t = 0.0;
	for (int i = 0; i < N; i++)
		t += c[i][i];
	return t;
}

static double newton_sqrt(double v)
{
	double x = v;
	for (int i = 0; i < 40; i++)
		x = 0.5 * (x + v / x);
	return x;
}

int main(void)
{
	/* Hard-float n64 code needs CP1 enabled with 64-bit registers. */
	write_c0_status(read_c0_status() | ST_CU1 | ST_FR);
	double pi = 0, tr = 0, r = 0;
	for (int k = 0; k < 6; k++) {
		pi += integrate(200000);
		tr += matmul();
		for (int i = 1; i < 2000; i++)
			r += newton_sqrt((double)i);
	}
	printf("fploop pi*1e9 %ld trace*1e3 %ld sqrtsum*1e3 %ld\n", (long)(pi / 6 * 1e9), (long)(tr * 1e3),
	       (long)(r * 1e3));
	return 0;
}
