/* main.c - being written this session */
int main(void) { return 0; }
