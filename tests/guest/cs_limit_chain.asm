; umbra-args: -bios {bin} -no-reboot
; Code past the CS limit (SDM vol. 3A, 5.3: a fetch past the limit is a
; #GP(0) at that instruction).  kb_a jumps to kb_b, which runs into kb_c;
; under a flat CS the two blocks run until translated and linked, then CS
; is reloaded with a selector of the same base whose limit ends right
; before kb_c, and kb_a is called again: kb_c must fault, after kb_a and
; kb_b ran.
%include "lib.inc"
%include "pm_lib.inc"

CS_SMALL equ 0x48
saved_esp equ scratch + 0

main:
    PRINT "cs_limit_chain", 10
    mov edi, GDT_BASE + CS_SMALL
    xor eax, eax
    mov ebx, kb_c - 1
    mov ecx, 0x00409a00             ; 32-bit code, byte granular
    call make_desc
    ; warm up under the flat CS
    mov ebp, 8
.warm:
    xor eax, eax
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    call kb_a
    dec ebp
    jnz .warm
    CHECK_EQ "flat edx", edx, 1
    ; the small CS: same base, limit right before kb_c
    mov [saved_esp], esp
    jmp CS_SMALL:.small
.small:
    TRY .back
    xor eax, eax
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    call kb_a
.back:
    mov esp, [saved_esp]
    jmp 0x08:.flat
.flat:
    CHECK_EXC "past limit", 13, 0, kb_c
    CHECK_EQ "eax", eax, 1
    CHECK_EQ "ebx", ebx, 1
    CHECK_EQ "ecx", ecx, 1
    CHECK_EQ "edx", edx, 0
    jmp finish

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
