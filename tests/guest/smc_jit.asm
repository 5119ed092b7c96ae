; umbra-args: -bios {bin} -no-reboot
; Self-modifying code (SDM vol. 3A, 11.6 and 8.1.3): a store to an
; instruction the processor has already fetched or decoded is detected,
; and the instruction runs as written, even when it is the very next one.
; Each case runs its code N times; iterations before MOD run it unchanged
; (so it is recorded, replayed, translated and linked by then), iteration
; MOD changes it and every later iteration must run the new code.  Every
; iteration's result is checked against a table built by the assembler;
; a line per case prints the results of iterations MOD-1, MOD and N-1,
; and the instructions the case retired (the time stamp counter counts
; retired instructions here), which every executor must agree on.
;
; The code runs from a RAM copy of the template at CODE (the ROM is not
; writable).  Template code refers to its own RAM addresses with RAM();
; relative jumps and calls inside the template need nothing.  During
; warm-up the store that later patches code writes to SINK, a data page.
;
;   a  a store patches the immediate of the next instruction
;   a2 the same with a read-modify-write (ADD [mem], reg)
;   a3 the same with a PUSH (ESP points right after the immediate)
;   b  a byte store turns a later ADD of the same block into a SUB
;   c  paging on: the code page is read-only where it runs and written
;      through a writable alias
;   d1 REP MOVSB copies new code over the rest of its own block
;   d2 backward REP MOVSB over a routine the loop calls
;   e  a loop's CALL, JMP and Jcc targets are rewritten by another block
;   f  stores, a read-modify-write and a stack in the 64-byte line of the
;      code that runs them
;   g1 a block rewrites the block its JMP is linked to, then goes on
;   g2 the same for the block it falls through into at the end of a page
;   h  a dword store straddling a data page and the next page, whose
;      first instruction it patches (the routine a linked CALL runs)
;   i  paging on: the PTE of a code page is pointed at another frame
;      (INVLPG); the linked CALL into the page must run the new frame
;   k  a JMP rel32 whose opcode ends a page and whose displacement is all
;      on the next page, which holds no other code: a store there
;      retargets it
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

CODE    equ 0x110000        ; RAM copy of the template
N       equ 16              ; iterations per case
MOD     equ 8               ; the iteration that changes the code
RES     equ 0x5000          ; one result per iteration
SINK    equ 0x5800          ; warm-up stores land here
PD      equ 0x300000
PT_AL   equ 0x301000        ; maps ALIAS
ALIAS   equ 0x400000        ; writable alias of the page of case c
D_LEN   equ 16              ; bytes of code case d replaces
URW     equ PTE_P | PTE_RW | PTE_US
tsc0    equ scratch + 0     ; time stamp before a case
ncase   equ scratch + 4     ; instructions the case retired
HCODE   equ CODE + 0x20000  ; h's routine; the page before holds no code
ICODE   equ CODE + 0x22000  ; i's routine, first frame
IALT    equ CODE + 0x23000  ; i's routine, second frame
KPAGE   equ CODE + 0x26000  ; k's JMP displacement starts this page
KDEST   equ KPAGE - (k_jmp + 1 - k_code)   ; where k_code is copied

%define RAM(x) ((x) - smc_tmpl + CODE)

; RUN_CASE name, entry, table: run a case's loop, check and print.
%macro RUN_CASE 3
    call clear_res
    rdtsc
    mov [tsc0], eax
    call RAM(%2)
    rdtsc
    sub eax, [tsc0]
    mov [ncase], eax
    jmp %%go
%%n: db %1, 0
%%go:
    mov esi, %%n
    mov ebx, %3
    call check_case
%endmacro

main:
    PRINT "smc_jit", 10
    mov esi, smc_tmpl
    mov edi, CODE
    mov ecx, smc_tmpl_end - smc_tmpl
    rep movsb
    mov esi, h_code
    mov edi, HCODE
    mov ecx, i_code - h_code
    rep movsb
    mov esi, i_code
    mov edi, ICODE
    mov ecx, i_alt - i_code
    rep movsb
    mov esi, i_alt
    mov edi, IALT
    mov ecx, i_end - i_alt
    rep movsb
    mov esi, k_code
    mov edi, KDEST
    mov ecx, k_end - k_code
    rep movsb

    RUN_CASE "a next insn", a_main, exp_a
    RUN_CASE "a2 next insn rmw", a2_main, exp_a
    RUN_CASE "a3 next insn push", a3_main, exp_a
    RUN_CASE "b later insn", b_main, exp_b

    call mmu_init
    mov edi, PD
    call new_pd
    mov edi, PT_AL
    call zero_page
    mov dword [PD + 4], PT_AL | URW
    mov dword [PT_AL], RAM(c_page) | URW
    mov dword [ID_PT + (RAM(c_page) >> 12) * 4], RAM(c_page) | PTE_P | PTE_US
    mov eax, PD
    call paging_on
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    ; the page really is read-only where it runs
    TRY .ro_r
.ro_f:
    mov byte [RAM(c_page)], 0xcc
.ro_r:
    CHECK_EXC "c code page read-only", 14, 3, .ro_f
    TRY 0
    RUN_CASE "c alias", c_main, exp_c
    RUN_CASE "i remapped code page", i_main, exp_i
    mov dword [ID_PT + (ICODE >> 12) * 4], ICODE | URW
    call paging_off
    mov eax, cr0
    and eax, ~CR0_WP
    mov cr0, eax
    mov dword [ID_PT + (RAM(c_page) >> 12) * 4], RAM(c_page) | URW

    RUN_CASE "d1 rep movsb own block", d1_main, exp_d
    RUN_CASE "d2 rep movsb backward", d2_main, exp_d
    RUN_CASE "e chained targets", e_main, exp_e
    RUN_CASE "f data in code line", f_main, exp_f
    CHECK_EQ "f1 data0", [RAM(f1_data)], N - 1
    CHECK_EQ "f1 data1", [RAM(f1_data) + 4], N * (N - 1) / 2
    CHECK_EQ "f2 stack0", [RAM(f2_stack)], 0x1234
    CHECK_EQ "f2 stack1", [RAM(f2_stack) + 4], N - 1
    RUN_CASE "g1 linked jmp", g1_main, exp_g1
    RUN_CASE "g2 linked fall-through", g2_main, exp_g2
    RUN_CASE "h split store", h_main, exp_h
    RUN_CASE "k jmp across pages", k_main, exp_i
    jmp finish

; clear_res: fill the results with a value no case produces.
clear_res:
    pushad
    mov edi, RES
    mov eax, 0xdeadbeef
    mov ecx, N
    rep stosd
    popad
    ret

; check_case: esi = name, ebx = table of the N expected results.
; Prints "name: <MOD-1> <MOD> <N-1> ok", or the first mismatch.
check_case:
    pushad
    call puts
    PRINT ":"
    xor ecx, ecx
.l: cmp ecx, MOD - 1
    je .p
    cmp ecx, MOD
    je .p
    cmp ecx, N - 1
    jne .np
.p: PRINT " "
    PHEX [RES + ecx * 4], 8
.np:
    inc ecx
    cmp ecx, N
    jb .l
    xor ecx, ecx
.c: mov eax, [RES + ecx * 4]
    cmp eax, [ebx + ecx * 4]
    jne .bad
    inc ecx
    cmp ecx, N
    jb .c
    PRINT " n="
    PHEX [ncase], 4
    PRINT " ok", 10
    popad
    ret
.bad:
    mov dword [fail], 1
    PRINT " BAD at "
    PHEX ecx, 2
    PRINT " got "
    PHEX [RES + ecx * 4], 8
    PRINT " want "
    PHEX [ebx + ecx * 4], 8
    PRINT 10
    popad
    ret

; New code for case d: as long as the code it replaces.
d_new:
    lea eax, [ebp * 8 + 0x55]
    xor eax, 0x1234
    times D_LEN - ($ - d_new) nop

; The routines of h and i, copied to HCODE, ICODE and IALT.
h_code:
    add al, 1
    ret
i_code:
    db 0x05                                   ; ADD EAX, imm32
    dd 0x100
    ret
i_alt:
    db 0x05
    dd 0x700
    ret
i_end:
; k's code, copied to KDEST so that the displacement of k_jmp is the
; first dword of KPAGE.
k_code:
k_old:
    mov eax, 0x100
    ret
k_new:
    mov eax, 0x700
    ret
k_jmp:
    jmp strict near k_old
k_end:

; ---- expected results, iteration i ----
%macro TABLE 0
%assign i 0
%rep N
    dd (EXPECT) & 0xffffffff
%assign i i + 1
%endrep
%endmacro

%define NEW (i >= MOD)
exp_a:
%define EXPECT (NEW ? 0x22222222 : 0x11111111) + i
    TABLE
exp_b:
%define EXPECT 2 * (((i << 4) ^ 0x5a) + 3 * i) + (NEW ? -0x100 : 0x100)
    TABLE
exp_c:
%define EXPECT 2 * i + (NEW ? 0x33333333 : 0x11111111)
    TABLE
exp_d:
%define EXPECT NEW ? (8 * i + 0x55) ^ 0x1234 : 3 * i + 7
    TABLE
exp_e:
%define EXPECT (NEW ? 0x43200 : 0x111) + i
    TABLE
exp_f:
%define EXPECT i + i * (i + 1) / 2 + (0x1234 + 2 * i) * 0x10000
    TABLE
exp_g1:
%define EXPECT 2 * ((2 * i) ^ 0x77) + (NEW ? 0x5000 : 0x1000)
    TABLE
exp_g2:
%define EXPECT 2 * ((2 * i) ^ 0x77) + (NEW ? 0x6000 : 0x1000)
    TABLE
exp_h:
%define EXPECT i + (NEW ? 0xaa : 0x01)
    TABLE
exp_i:
%define EXPECT i + (NEW ? 0x700 : 0x100)
    TABLE

; ==== the template, copied to CODE; each case's pages are its own ====

; CASE_LOOP routine, target, value: for EBP = 0..N-1 call routine with
; EDI = SINK (EDI = target at iteration MOD) and EDX = value; the result
; (EAX) goes to RES.
%macro CASE_LOOP 3
    xor ebp, ebp
%%l:
    mov edi, SINK
    cmp ebp, MOD
    jne %%go
    mov edi, %2
%%go:
    mov edx, %3
    call %1
    mov [RES + ebp * 4], eax
    inc ebp
    cmp ebp, N
    jb %%l
    ret
%endmacro

align 4096, db 0xcc
smc_tmpl:

; ---- page 0: a, b ----
a_main:
    CASE_LOOP a_run, RAM(a_next) + 1, 0x22222222
a_run:
    mov eax, ebp
    mov [edi], edx
a_next:
    mov ecx, 0x11111111
    add eax, ecx
    ret

a2_main:
    CASE_LOOP a2_run, RAM(a2_next) + 1, 0x11111111
a2_run:
    mov eax, ebp
    add [edi], edx
a2_next:
    mov ecx, 0x11111111
    add eax, ecx
    ret

a3_main:
    CASE_LOOP a3_run, RAM(a3_next) + 5, 0x22222222
a3_run:
    mov [SINK + 0x100], esp
    mov esp, edi                 ; at MOD the push writes a3_next + 1..4
    push edx
a3_next:
    mov ecx, 0x11111111
    mov esp, [SINK + 0x100]
    lea eax, [ebp + ecx]
    ret

b_main:
    CASE_LOOP b_run, RAM(b_late), 0x2d        ; 2D: SUB EAX, imm32
b_run:
    mov [edi], dl
    mov eax, ebp
    shl eax, 4
    xor eax, 0x5a
    lea eax, [eax + ebp * 2]
    add eax, ebp
    mov ecx, eax
b_late:
    db 0x05                                   ; ADD EAX, imm32
    dd 0x100
    add eax, ecx
    ret

; ---- page 1: c (read-only here, written through ALIAS) ----
align 4096, db 0xcc
c_page:
c_main:
    CASE_LOOP c_run, ALIAS + (c_next + 1 - c_page), 0x33333333
c_run:
    mov eax, ebp
    mov [edi], edx
c_next:
    mov ecx, 0x11111111
    lea eax, [eax * 2 + ecx]
    ret

; ---- page 2: the loops of d; page 3: the routine d2 rewrites ----
align 4096, db 0xcc
d1_main:
    xor ebp, ebp
.l: xor ebx, ebx
    cmp ebp, MOD
    jne .go
    mov ebx, D_LEN
.go:
    call d1_run
    mov [RES + ebp * 4], eax
    inc ebp
    cmp ebp, N
    jb .l
    ret
d1_run:
    mov esi, d_new
    mov edi, RAM(d1_body)
    mov ecx, ebx
    rep movsb
d1_body:
    imul eax, ebp, 3
    add eax, 7
    times D_LEN - ($ - d1_body) nop
    ret

d2_main:
    xor ebp, ebp
.l: xor ecx, ecx
    cmp ebp, MOD
    jne .go
    mov ecx, D_LEN
.go:
    std
    mov esi, d_new + D_LEN - 1
    mov edi, RAM(d2_body) + D_LEN - 1
    rep movsb
    cld
    call d2_body
    mov [RES + ebp * 4], eax
    inc ebp
    cmp ebp, N
    jb .l
    ret

align 4096, db 0xcc
d2_body:
    imul eax, ebp, 3
    add eax, 7
    times D_LEN - ($ - d2_body) nop
    ret

; ---- page 4: the loop of e; page 5: its targets ----
align 4096, db 0xcc
e_main:
    xor ebp, ebp
e_loop:
    cmp ebp, MOD
    jne e_run
    mov dword [RAM(e_call) + 1], 0x200
    mov dword [RAM(e_jmp) + 1], 0x3000
    mov dword [RAM(e_jcc) + 1], 0x40000
e_run:
    xor eax, eax
    call e_call
    jmp e_jmp
e_back:
    test ebp, ebp
    jns e_jcc
    ud2
e_back2:
    add eax, ebp
    mov [RES + ebp * 4], eax
    inc ebp
    cmp ebp, N
    jb e_loop
    ret

align 4096, db 0xcc
e_call:
    db 0x05                                   ; ADD EAX, imm32
    dd 0x1
    ret
e_jmp:
    db 0x05
    dd 0x10
    jmp e_back
e_jcc:
    db 0x05
    dd 0x100
    jmp e_back2

; ---- page 6: f ----
align 4096, db 0xcc
f_main:
    xor ebp, ebp
.l: call f1_run
    mov ebx, eax
    call f2_run
    shl eax, 16
    add eax, ebx
    mov [RES + ebp * 4], eax
    inc ebp
    cmp ebp, N
    jb .l
    ret

align 64, db 0xcc
f1_run:
    mov [RAM(f1_data)], ebp
    add [RAM(f1_data) + 4], ebp
    mov eax, [RAM(f1_data)]
    add eax, [RAM(f1_data) + 4]
    jmp short f1_over
align 4, db 0xcc
f1_data:
    dd 0, 0
f1_over:
    ret
    times 64 - ($ - f1_run) db 0xcc           ; (fails to assemble past 64)

f2_run:
    mov [RAM(f2_save)], esp
    mov esp, RAM(f2_top)                      ; a stack in this line
    push ebp
    push dword 0x1234
    pop ecx
    pop edx
    lea eax, [ecx + edx * 2]
    mov esp, [RAM(f2_save)]
    ret
align 4, db 0xcc
f2_stack:
    dd 0, 0
f2_top:
f2_save:
    dd 0
    times 64 - ($ - f2_run) db 0xcc

; ---- page 7: the first blocks of g; page 8: the blocks they rewrite ----
align 4096, db 0xcc
g1_main:
    CASE_LOOP g1_run, RAM(g1_b) + 1, 0x5000
g1_run:
    mov eax, ebp
    mov [edi], edx
    add eax, eax
    xor eax, 0x77
    mov ecx, eax
    jmp g1_b

g2_main:
    CASE_LOOP g2_run, RAM(g2_b) + 1, 0x6000
G2_LEN equ 11
    times 4096 - G2_LEN - (($ - smc_tmpl) & 0xfff) db 0xcc
g2_run:
    mov eax, ebp
    mov [edi], edx
    add eax, eax
    xor eax, 0x77
    mov ecx, eax
    ; the page ends here: the block falls through into g2_b
    times -((($ - smc_tmpl) & 0xfff) != 0) db 0
g2_b:
    db 0x05                                   ; ADD EAX, imm32
    dd 0x1000
    add eax, ecx
    ret
g1_b:
    db 0x05
    dd 0x1000
    add eax, ecx
    ret

; ---- page 9: the loops of h and i (their routines are at HCODE, ICODE) ----
align 4096, db 0xcc
h_main:
    CASE_LOOP h_run, HCODE - 2, 0xaa04ccdd  ; ADD AL, 0xAA at HCODE
h_run:
    mov eax, ebp
    mov [edi], edx
    call smc_tmpl + (HCODE - CODE)
    ret

i_main:
    xor ebp, ebp
i_loop:
    cmp ebp, MOD
    jne i_go
    mov dword [ID_PT + (ICODE >> 12) * 4], IALT | URW
    invlpg [ICODE]
i_go:
    mov eax, ebp
    call smc_tmpl + (ICODE - CODE)
    mov [RES + ebp * 4], eax
    inc ebp
    cmp ebp, N
    jb i_loop
    ret

k_main:
    CASE_LOOP k_run, KPAGE, k_new - k_end
k_run:
    mov [edi], edx
    call smc_tmpl + (KDEST + (k_jmp - k_code) - CODE)
    add eax, ebp
    ret
smc_tmpl_end:

    ROM_END
