; umbra-args: -bios {bin} -no-reboot
; A fault right after an instruction that moves ESP as an ordinary
; register (ADD ESP, imm; LEA ESP, [ESP+4]; MOV ESP, reg) is delivered
; with the ESP of an earlier point of the translated block.  Same
; machinery as tests/guest/fault_mid_block.asm: each routine runs until
; translated, then faults on a load from a not-present page on
; iterations FAULT_LO..FAULT_HI; ESP at the fault must be ESP_IN (the
; value after the ESP move), as -exec interp and -exec block report.
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

N        equ 10
FAULT_LO equ 5
FAULT_HI equ 7
PD       equ 0x300000
DATA     equ 0x380000         ; the routines' stores
GOOD     equ 0x381000         ; a writable page
NP       equ 0x382000         ; not present
RO       equ 0x383000         ; read-only
FS_BASE  equ 0x384000         ; FS: this base, limit 0xfff
FS_SEL   equ 0x48
JUNK0    equ 0xd0d0d0d0       ; DATA before each call
JUNK1    equ 0xd1d1d1d1
RO_VAL   equ 0x00001000       ; the word at RO

snap_next equ scratch + 0x00   ; where the handler records next
watch0    equ scratch + 0x04   ; addresses of the two memory words
watch1    equ scratch + 0x08
resume_at equ scratch + 0x0c
iter      equ scratch + 0x10
sum       equ scratch + 0x14   ; sum of the routine's EAX over the run
abort_to  equ scratch + 0x18   ; where a fault with ESP wrong resumes
SNAPS     equ 0x5000           ; FAULT_HI - FAULT_LO + 1 records
SNAP      equ 64

; record fields (dword index)
F_EIP equ 0
F_ESP equ 1
F_EFL equ 2
F_ERR equ 3
F_EAX equ 4
F_ECX equ 5
F_EDX equ 6
F_EBX equ 7
F_ESI equ 8
F_EDI equ 9
F_EBP equ 10
F_CR2 equ 11
F_M0  equ 12
F_M1  equ 13
F_TOP equ 14
F_VEC equ 15

ESP_IN equ STACK0_TOP - 4 - 4  ; ESP in a routine after its one push left

; FCASE name, routine, good EBX, faulting EBX, watch0, watch1, table
%macro FCASE 7
    mov esp, STACK0_TOP
    mov dword [snap_next], SNAPS
    mov dword [watch0], %5
    mov dword [watch1], %6
    mov dword [resume_at], %2.after
    mov dword [iter], 0
    mov dword [sum], 0
    mov dword [abort_to], %%p
%%l:
    mov dword [DATA], JUNK0
    mov dword [DATA + 4], JUNK1
    mov eax, [iter]
    imul eax, eax, 0x01010101        ; registers the routine must replace
    mov ecx, eax
    mov edx, eax
    mov esi, eax
    mov edi, eax
    mov ebp, eax
    mov ebx, %3
    cmp dword [iter], FAULT_LO
    jb %%go
    cmp dword [iter], FAULT_HI
    ja %%go
    mov ebx, %4
%%go:
    call %2
    add [sum], eax
    inc dword [iter]
    cmp dword [iter], N
    jb %%l
    jmp %%p
%%n: db %1, 0
%%p:
    mov esp, STACK0_TOP
    mov esi, %%n
    mov ebx, %7
    call check_snaps
%endmacro

main:
    PRINT "fault_esp_reg", 10
    call mmu_init
    mov edi, PD
    call new_pd
    mov dword [ID_PT + (NP >> 12) * 4], 0
    mov dword [ID_PT + (RO >> 12) * 4], RO | PTE_P | PTE_US
    mov dword [RO], RO_VAL
    mov eax, PD
    call paging_on
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    ; FS: base FS_BASE, limit 0xfff, 32-bit data
    mov edi, GDT_BASE + FS_SEL
    mov eax, FS_BASE
    mov ebx, 0xfff
    mov ecx, 0x00409200
    call make_desc
    mov ax, FS_SEL
    mov fs, ax
    ; #DE, #GP and #PF go to the recording handlers
    mov bx, 0x08
    mov ecx, 0x8e00
    mov edi, IDT_BASE + 0 * 8
    mov eax, h_de
    call make_gate
    mov edi, IDT_BASE + 13 * 8
    mov eax, h_gp
    call make_gate
    mov edi, IDT_BASE + 14 * 8
    mov eax, h_pf
    call make_gate

    FCASE "esp add", esp_alu_run, GOOD, NP, DATA, DATA + 4, exp_esp_alu
    FCASE "esp lea", esp_lea_run, GOOD, NP, DATA, DATA + 4, exp_esp_lea
    FCASE "esp mov", esp_mov_run, GOOD, NP, DATA, DATA + 4, exp_esp_mov

    mov esp, STACK0_TOP
    call paging_off
    jmp finish

; ---- the routines: EBX is the input, everything else is set here ----

%macro SETREGS 0
    mov eax, 0x01010101
    mov ecx, 0x02020202
    mov edx, 0x03030303
    mov esi, 0x04040404
    mov edi, 0x05050505
    mov ebp, 0x06060606
%endmacro

esp_lea_run:
    SETREGS
    or ecx, ecx                  ; flags: none set
    push dword 0x600d
    push ecx
    mov [DATA], ecx
    lea esp, [esp + 4]
.fault:
    mov eax, [ebx]
.after:
    pop edx
    ret

esp_mov_run:
    SETREGS
    or ecx, ecx                  ; flags: none set
    push dword 0x600d
    mov ebp, esp
    push ecx
    mov [DATA], ecx
    mov esp, ebp
.fault:
    mov eax, [ebx]
.after:
    pop edx
    ret

esp_alu_run:
    SETREGS
    push dword 0x600d
    push ecx
    mov [DATA], ecx
    add esp, 4                   ; ESP moves without a push or pop
.fault:
    mov eax, [ebx]
.after:
    pop edx
    ret

; ---- expected records ----
;        eip, esp, eflags, err, eax, ecx, edx, ebx, esi, edi, ebp, cr2,
;        mem0, mem1, top of stack, vector
exp_esp_alu:
    dd esp_alu_run.fault, ESP_IN, 0x2, 0, 0x01010101, 0x02020202, 0x03030303, NP
    dd 0x04040404, 0x05050505, 0x06060606, NP, 0x02020202, JUNK1
    dd 0x600d, 14

exp_esp_lea:
    dd esp_lea_run.fault, ESP_IN, 0x2, 0, 0x01010101, 0x02020202, 0x03030303, NP
    dd 0x04040404, 0x05050505, 0x06060606, NP, 0x02020202, JUNK1
    dd 0x600d, 14
exp_esp_mov:
    dd esp_mov_run.fault, ESP_IN, 0x2, 0, 0x01010101, 0x02020202, 0x03030303, NP
    dd 0x04040404, 0x05050505, ESP_IN, NP, 0x02020202, JUNK1
    dd 0x600d, 14

; ---- the handlers ----
; The frame is made uniform: vector, error code (NOERR for #DE), EIP,
; CS, EFLAGS; ESP at the fault is right above it (no privilege change).
h_de:
    push dword NOERR
    push dword 0
    jmp h_common
h_gp:
    push dword 13
    jmp h_common
h_pf:
    push dword 14
h_common:
    pushad                       ; EDI ESI EBP ESP EBX EDX ECX EAX
    mov edi, [snap_next]
    mov eax, [esp + 32]
    mov [edi + F_VEC * 4], eax
    mov eax, [esp + 36]
    mov [edi + F_ERR * 4], eax
    mov eax, [esp + 40]
    mov [edi + F_EIP * 4], eax
    mov eax, [esp + 48]
    mov [edi + F_EFL * 4], eax
    lea eax, [esp + 52]
    mov [edi + F_ESP * 4], eax
    mov eax, [eax]
    mov [edi + F_TOP * 4], eax
    mov eax, [esp + 28]
    mov [edi + F_EAX * 4], eax
    mov eax, [esp + 24]
    mov [edi + F_ECX * 4], eax
    mov eax, [esp + 20]
    mov [edi + F_EDX * 4], eax
    mov eax, [esp + 16]
    mov [edi + F_EBX * 4], eax
    mov eax, [esp + 4]
    mov [edi + F_ESI * 4], eax
    mov eax, [esp + 0]
    mov [edi + F_EDI * 4], eax
    mov eax, [esp + 8]
    mov [edi + F_EBP * 4], eax
    xor eax, eax
    cmp dword [esp + 32], 14
    jne .nocr2
    mov eax, cr2
.nocr2:
    mov [edi + F_CR2 * 4], eax
    mov eax, [watch0]
    mov eax, [eax]
    mov [edi + F_M0 * 4], eax
    mov eax, [watch1]
    mov eax, [eax]
    mov [edi + F_M1 * 4], eax
    add dword [snap_next], SNAP
    ; returning with ESP wrong would run away: report and stop instead
    cmp dword [edi + F_ESP * 4], ESP_IN
    jne .esp_bad
    mov eax, [resume_at]
    mov [esp + 40], eax
    popad
    add esp, 8
    iretd
.esp_bad:
    mov eax, [abort_to]          ; the case's report resets ESP
    mov [esp + 40], eax
    popad
    add esp, 8
    iretd

; check_snaps: esi = name, ebx = expected record.  Every record taken
; must equal it, and there must be one per faulting iteration.  Prints
; the last record and the sum of the routine's results.
check_snaps:
    pushad
    call puts
    PRINT ": vec="
    mov edi, [snap_next]
    sub edi, SNAP
    PHEX [edi + F_VEC * 4], 2
    PRINT " err="
    PHEX [edi + F_ERR * 4], 8
    mov eax, [edi + F_EIP * 4]
    cmp eax, [ebx + F_EIP * 4]
    jne .eipbad
    PRINT " eip ok"
    jmp .eipd
.eipbad:
    PRINT " eip="
    PHEX eax, 8
.eipd:
    PRINT " esp="
    PHEX [edi + F_ESP * 4], 8
    PRINT " efl="
    PHEX [edi + F_EFL * 4], 8
    PRINT " cr2="
    PHEX [edi + F_CR2 * 4], 8
    PRINT 10, "  eax="
    PHEX [edi + F_EAX * 4], 8
    PRINT " ecx="
    PHEX [edi + F_ECX * 4], 8
    PRINT " edx="
    PHEX [edi + F_EDX * 4], 8
    PRINT " ebx="
    PHEX [edi + F_EBX * 4], 8
    PRINT " esi="
    PHEX [edi + F_ESI * 4], 8
    PRINT " edi="
    PHEX [edi + F_EDI * 4], 8
    PRINT " ebp="
    PHEX [edi + F_EBP * 4], 8
    PRINT 10, "  mem="
    PHEX [edi + F_M0 * 4], 8
    PRINT " "
    PHEX [edi + F_M1 * 4], 8
    PRINT " top="
    PHEX [edi + F_TOP * 4], 8
    PRINT " sum="
    PHEX [sum], 8
    ; every record against the expected one
    mov eax, [snap_next]
    sub eax, SNAPS
    cmp eax, (FAULT_HI - FAULT_LO + 1) * SNAP
    jne .count
    mov edi, SNAPS
.rec:
    xor ecx, ecx
.f: mov eax, [edi + ecx * 4]
    cmp eax, [ebx + ecx * 4]
    jne .bad
    inc ecx
    cmp ecx, 16
    jb .f
    add edi, SNAP
    cmp edi, [snap_next]
    jb .rec
    PRINT " ok", 10
    popad
    ret
.count:
    mov dword [fail], 1
    PRINT " BAD faults seen "
    shr eax, 6
    PHEX eax, 2
    PRINT 10
    popad
    ret
.bad:
    mov dword [fail], 1
    PRINT " BAD record "
    mov eax, edi
    sub eax, SNAPS
    shr eax, 6
    PHEX eax, 2
    PRINT " field "
    PHEX ecx, 2
    PRINT " got "
    PHEX [edi + ecx * 4], 8
    PRINT " want "
    PHEX [ebx + ecx * 4], 8
    PRINT 10
    popad
    ret

    ROM_END
