/* Loads a metac -emit=lib library and reports whether it can run here: the
 * parameter count, or the library's error (a CPU without an extension the
 * library was compiled for). */
#include LIBRARY_HEADER

#include <stdio.h>

int main(void) {
  int P = metac_num_parameters();
  if (P < 0) {
    printf("%s\n", metac_last_error());
    return 1;
  }
  printf("parameters %d\n", P);
  return 0;
}
