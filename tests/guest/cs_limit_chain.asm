; umbra-args: -bios {bin} -no-reboot
; Code past the CS limit (SDM vol. 3A, 5.3: a fetch past the limit is a
; #GP(0) at that instruction), reached through linked translated code:
; kb_a jumps to kb_b (a linked direct jump).  The set-up and checks are in cs_limit_lib.inc.
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
