; umbra-args: -bios {bin} -no-reboot
; Code past the CS limit (SDM vol. 3A, 5.3: a fetch past the limit is a
; #GP(0) at that instruction).  kb_a jumps to kb_b, which runs into kb_c;
; under a flat CS the two blocks run until translated and linked, then CS
; is reloaded with a selector of the same base whose limit ends right
; before kb_c, and kb_a is called again: kb_c must fault, after kb_a and
; kb_b ran.
%define CS_LIMIT_TEST "cs_limit_chain"
%include "cs_limit_lib.inc"

kb_a:
    inc eax
    jmp kb_b
    nop
kb_b:
    inc ebx
    inc ecx
kb_c:
    inc edx
    ret

    ROM_END
