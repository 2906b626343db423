/* tnosym.c - a shared object without the psmtpd_plugin symbol. */
int tnosym_something(void);

int
tnosym_something(void)
{
	return 42;
}
