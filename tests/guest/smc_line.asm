; umbra-args: -bios {bin} -no-reboot
; Stores next to code.  Code-write tracking is finer than a page: a store
; into a page holding running code only invalidates what was decoded from
; the bytes it touches, so data sharing a page, or a 64-byte line, with
; code must read back right and the code beside it must go on running as
; written, under every executor.
;
;   near/far  a loop stores to a variable in its own 64-byte line (another
;             16-byte line), to one 2 KiB away in its page, and adds to
;             one in its own line
;   gen       a loop writes a routine (mov eax, i ; ret) into a line of
;             its page and calls it: the first 8 passes write lines that
;             never held code, the next 12 rewrite lines that ran before
%include "lib.inc"
%include "pm_lib.inc"

CODE    equ 0x120000        ; RAM copy of the template, page aligned
N       equ 200             ; passes of the store loop
G       equ 20              ; passes of the generating loop

%define RAM(x) ((x) - tmpl + CODE)

main:
    PRINT "smc_line", 10
    mov esi, tmpl
    mov edi, CODE
    mov ecx, tmpl_end - tmpl
    rep movsb
    call CODE
    CHECK_EQ "near sum", eax, N * (N + 1) / 2
    CHECK_EQ "near var", [RAM(near_var)], 1
    CHECK_EQ "near rmw", [RAM(near_rmw)], 3 * N
    CHECK_EQ "far var", [RAM(far_var)], N * (N + 1) / 2
    call CODE + (gen_run - tmpl)
    CHECK_EQ "gen sum", eax, G * (G - 1) / 2
    CHECK_EQ "gen last", [RAM(gen_slot) + ((G - 1) & 7) * 16 + 1], G - 1
    CHECK_EQ "code intact", [CODE], 0xc8b9d231
    jmp finish

; Copied to CODE; position independent apart from RAM().
tmpl:
loop_run:
    xor edx, edx                    ; with the next: 31 d2 b9 c8 (checked)
    mov ecx, N
.l: add edx, ecx
    mov [RAM(near_var)], ecx        ; same 64-byte line, another 16-byte one
    mov [RAM(far_var)], edx         ; same page, 2 KiB on
    add dword [RAM(near_rmw)], 3    ; read-modify-write in the same line
    loop .l
    mov eax, edx
    ret
    times 0x30 - ($ - tmpl) db 0xcc ; (fails to assemble past 0x30)
near_var: dd 0
near_rmw: dd 0
    times 0x40 - ($ - tmpl) db 0

gen_run:
    xor ebx, ebx
    xor ebp, ebp
.g: mov edi, ebp
    and edi, 7
    shl edi, 4
    mov byte [edi + RAM(gen_slot)], 0xb8   ; mov eax, imm32
    mov [edi + RAM(gen_slot) + 1], ebp
    mov byte [edi + RAM(gen_slot) + 5], 0xc3 ; ret
    lea eax, [edi + RAM(gen_slot)]
    call eax
    add ebx, eax
    inc ebp
    cmp ebp, G
    jb .g
    mov eax, ebx
    ret
    times 0x100 - ($ - tmpl) db 0xcc
gen_slot:
    times 8 * 16 db 0xcc
    times 0x800 - ($ - tmpl) db 0
far_var: dd 0
tmpl_end:

    ROM_END
